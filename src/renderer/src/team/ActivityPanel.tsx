import { Button, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { api } from '../api.ts';
import { CallError, useCall } from '../errors.tsx';

/** The access log for admins: who viewed or changed which image or call, when and from where (newest first). */
export function ActivityPanel() {
  const [who, setWho] = useState('');
  const [version, setVersion] = useState(0);
  const rows = useCall(() => api['team.activity']({ who: who.trim() || undefined, limit: 200 }), [version]);
  return (
    <Stack gap="xs" data-testid="activity">
      <Title order={5}>Activity</Title>
      <Text size="xs" c="dimmed">
        Every call through the app and every full photo served is logged (polling is not). dermfuse audit DIR exports the log.
      </Text>
      <Group gap="xs">
        <TextInput size="xs" placeholder="Who (any account)" value={who} onChange={(e) => setWho(e.currentTarget.value)} aria-label="Filter by person" />
        <Button size="xs" variant="default" onClick={() => setVersion((v) => v + 1)} data-testid="activity-refresh">
          Refresh
        </Button>
      </Group>
      <CallError call={rows} what="Reading the access log" />
      <Table fz="xs" data-testid="activity-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Who</Table.Th>
            <Table.Th>What</Table.Th>
            <Table.Th>Image</Table.Th>
            <Table.Th>Outcome</Table.Th>
            <Table.Th>From</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(rows.data ?? []).map((r, i) => (
            <Table.Tr key={i}>
              <Table.Td>{new Date(r.at).toLocaleString()}</Table.Td>
              <Table.Td>
                {r.who} ({r.role})
              </Table.Td>
              <Table.Td>{r.action}</Table.Td>
              <Table.Td>{r.externalId ?? (r.imageId !== null ? `#${r.imageId}` : r.images !== null ? `${r.images} images` : '')}</Table.Td>
              <Table.Td>{r.outcome}</Table.Td>
              <Table.Td>{r.origin}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
