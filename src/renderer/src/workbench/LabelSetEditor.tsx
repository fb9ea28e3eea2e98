import { ActionIcon, Alert, Button, Card, ColorInput, Container, Group, MultiSelect, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import type { DerivedTarget, LabelSetInfo } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { FieldNames } from './FieldNames.tsx';

interface Row {
  name: string;
  color: string | null;
  hotkey: string | null;
  count: number;
}

/** The label-set editor: classes in order with colours and hotkeys, new classes, and derived targets. */
export function LabelSetEditor({ onSaved }: { onSaved(): void }) {
  const [info, setInfo] = useState<LabelSetInfo | null>(null);
  const [rows, setRows] = useState<Row[]>([]);
  const [targets, setTargets] = useState<DerivedTarget[]>([]);
  const [newClass, setNewClass] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const load = (i: LabelSetInfo) => {
    setInfo(i);
    setRows(i.classes.map((c) => ({ ...c })));
    setTargets(i.targets.map((t) => ({ ...t })));
  };
  useEffect(() => {
    api['labelSets.get']({}).then(load, (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  const change = (i: number, patch: Partial<Row>) => {
    setSaved(false);
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  };
  const move = (i: number, d: number) => {
    const j = i + d;
    if (j < 0 || j >= rows.length) return;
    const next = [...rows];
    [next[i], next[j]] = [next[j]!, next[i]!];
    setRows(next);
  };
  const save = async () => {
    setError(null);
    try {
      load(
        await api['labelSets.save']({
          classes: rows.map((r) => ({ name: r.name, color: r.color || null, hotkey: r.hotkey || null })),
          targets: targets.filter((t) => t.name.trim()),
        }),
      );
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  if (!info)
    return (
      <Container py="md">
        <Stack>
          {error ? <Alert color="red">{error}</Alert> : <Text>Loading…</Text>}
          <FieldNames onSaved={onSaved} />
        </Stack>
      </Container>
    );
  return (
    <Container size="md" py="md">
      <Stack>
        <Title order={2}>Label set “{info.name}”</Title>
        <Card withBorder>
          <Table data-testid="class-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Class</Table.Th>
                <Table.Th>Images</Table.Th>
                <Table.Th>Hotkey</Table.Th>
                <Table.Th>Colour</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r, i) => (
                <Table.Tr key={r.name}>
                  <Table.Td>
                    <Group gap={2}>
                      <ActionIcon size="xs" variant="default" onClick={() => move(i, -1)} aria-label={`move ${r.name} up`}>
                        ↑
                      </ActionIcon>
                      <ActionIcon size="xs" variant="default" onClick={() => move(i, 1)} aria-label={`move ${r.name} down`}>
                        ↓
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                  <Table.Td>{r.name}</Table.Td>
                  <Table.Td>{r.count}</Table.Td>
                  <Table.Td>
                    <TextInput
                      size="xs"
                      w={50}
                      maxLength={1}
                      value={r.hotkey ?? ''}
                      onChange={(e) => change(i, { hotkey: e.currentTarget.value || null })}
                      data-testid={`hotkey-${r.name}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    <ColorInput
                      size="xs"
                      w={130}
                      value={r.color ?? ''}
                      onChange={(v) => change(i, { color: v || null })}
                      format="hex"
                      data-testid={`color-${r.name}`}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red"
                      disabled={r.count > 0}
                      title={r.count > 0 ? 'Relabel its images first' : 'Remove'}
                      onClick={() => setRows(rows.filter((_, j) => j !== i))}
                    >
                      Remove
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Group mt="xs">
            <TextInput size="xs" placeholder="New class" value={newClass} onChange={(e) => setNewClass(e.currentTarget.value)} data-testid="new-class" />
            <Button
              size="xs"
              variant="light"
              disabled={!newClass.trim() || rows.some((r) => r.name === newClass.trim())}
              onClick={() => {
                setRows([...rows, { name: newClass.trim(), color: null, hotkey: null, count: 0 }]);
                setNewClass('');
              }}
              data-testid="add-class"
            >
              Add class
            </Button>
          </Group>
        </Card>
        <Card withBorder>
          <Title order={4}>Derived targets</Title>
          <Text size="xs" c="dimmed" mb="xs">
            A binary target made of classes, e.g. “malignant” = BCC, MEL, SCC; choose it when training.
          </Text>
          <Stack gap="xs">
            {targets.map((t, i) => (
              <Group key={i} align="end">
                <TextInput
                  size="xs"
                  label="Name"
                  value={t.name}
                  onChange={(e) => setTargets(targets.map((x, j) => (j === i ? { ...x, name: e.currentTarget.value } : x)))}
                  data-testid={`target-name-${i}`}
                />
                <MultiSelect
                  size="xs"
                  style={{ flex: 1 }}
                  label="Positive classes"
                  data={rows.map((r) => r.name)}
                  value={t.classes}
                  onChange={(v) => setTargets(targets.map((x, j) => (j === i ? { ...x, classes: v } : x)))}
                  data-testid={`target-classes-${i}`}
                />
                <Button size="xs" variant="subtle" color="red" onClick={() => setTargets(targets.filter((_, j) => j !== i))}>
                  Remove
                </Button>
              </Group>
            ))}
            <Button size="xs" variant="light" w={160} onClick={() => setTargets([...targets, { name: '', classes: [] }])} data-testid="add-target">
              Add target
            </Button>
          </Stack>
        </Card>
        {error && (
          <Alert color="red" data-testid="labelset-error">
            {error}
          </Alert>
        )}
        {saved && (
          <Alert color="green" data-testid="labelset-saved">
            Saved.
          </Alert>
        )}
        <Group>
          <Button onClick={() => void save()} data-testid="labelset-save">
            Save label set
          </Button>
        </Group>
        <FieldNames onSaved={onSaved} />
      </Stack>
    </Container>
  );
}
