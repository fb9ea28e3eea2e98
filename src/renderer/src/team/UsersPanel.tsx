import { Badge, Button, Code, Group, Select, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ROLES, type Role } from '../../../shared/team.ts';
import { api } from '../api.ts';
import { errorMessage, useCall } from '../errors.tsx';

/** The project's accounts: add one (its personal sign-in link is shown once), revoke one. */
export function UsersPanel() {
  const [version, setVersion] = useState(0);
  const users = useCall(() => api['team.users']({}), [version]);
  const me = useCall(() => api['team.me']({}), [version]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('annotator');
  const [link, setLink] = useState<{ name: string; url: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const add = async () => {
    setError(null);
    try {
      const r = await api['team.addUser']({ name, role });
      setLink({ name: r.name, url: `${window.location.origin}/?token=${r.token}` });
      setName('');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const revoke = (n: string) =>
    api['team.revokeUser']({ name: n }).then(
      () => setVersion((v) => v + 1),
      (err: unknown) => setError(errorMessage(err)),
    );
  return (
    <Stack gap="xs" maw={720} data-testid="users">
      <Title order={5}>Accounts</Title>
      <Table fz="sm">
        <Table.Tbody>
          {(users.data ?? []).map((u) => (
            <Table.Tr key={u.name} data-testid={`user-${u.name}`}>
              <Table.Td>{u.name}</Table.Td>
              <Table.Td>
                <Badge size="xs" variant="light">
                  {u.role}
                </Badge>
              </Table.Td>
              <Table.Td>{u.revokedAt ? `revoked ${new Date(u.revokedAt).toLocaleString()}` : ''}</Table.Td>
              <Table.Td>
                {!u.revokedAt && (
                  <Button size="compact-xs" variant="subtle" color="red" onClick={() => void revoke(u.name)}>
                    Revoke
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group align="end" gap="xs">
        <TextInput size="xs" label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="user-name" />
        <Select
          size="xs"
          label="Role"
          data={[...ROLES]}
          value={role}
          onChange={(v) => setRole((v ?? 'annotator') as Role)}
          allowDeselect={false}
          data-testid="user-role"
        />
        <Button size="xs" onClick={() => void add()} disabled={!name.trim()} data-testid="user-add">
          Add account
        </Button>
      </Group>
      {me.data && (
        <>
          <SettingSwitch
            label="Annotators may edit metadata (adjudicators and admins always may)"
            checked={me.data.annotatorsEditMetadata}
            set={(allowed) => api['team.setMetadataEdits']({ allowed })}
            done={() => setVersion((v) => v + 1)}
            failed={(err) => setError(errorMessage(err))}
            testId="metadata-edits"
          />
          <SettingSwitch
            label="Adjudicators may decide disputes they labelled themselves"
            checked={me.data.adjudicateOwn}
            set={(allowed) => api['team.setOwnAdjudication']({ allowed })}
            done={() => setVersion((v) => v + 1)}
            failed={(err) => setError(errorMessage(err))}
            testId="adjudicate-own"
          />
        </>
      )}
      {error && (
        <Text c="red" size="sm">
          {error}
        </Text>
      )}
      {link && (
        <Stack gap={2}>
          <Text size="sm">Sign-in link for {link.name}, shown once: send it privately (it works until revoked).</Text>
          <Code data-testid="user-link">{link.url}</Code>
        </Stack>
      )}
    </Stack>
  );
}

/** A project setting as a switch: written at once, then read back. */
function SettingSwitch(p: { label: string; checked: boolean; set(v: boolean): Promise<unknown>; done(): void; failed(err: unknown): void; testId: string }) {
  return (
    <Switch size="xs" label={p.label} checked={p.checked} onChange={(e) => void p.set(e.currentTarget.checked).then(p.done, p.failed)} data-testid={p.testId} />
  );
}
