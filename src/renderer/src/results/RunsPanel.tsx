import { Badge, Checkbox, Table, Text } from '@mantine/core';
import type { RunListItem } from '../../../shared/results.ts';
import { MODES } from '../../../shared/results.ts';

const f3 = (x: number) => x.toFixed(3);

export function RunsTable({
  runs,
  selected,
  compare,
  onSelect,
  onCompare,
}: {
  runs: RunListItem[];
  selected: number | null;
  compare: number[];
  onSelect(id: number): void;
  onCompare(ids: number[]): void;
}) {
  if (runs.length === 0)
    return (
      <Text c="dimmed" size="sm">
        No runs yet: extract features, then train.
      </Text>
    );
  return (
    <Table highlightOnHover fz="xs" horizontalSpacing={6} data-testid="runs-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th />
          <Table.Th>Run</Table.Th>
          <Table.Th>Target</Table.Th>
          <Table.Th>Image</Table.Th>
          <Table.Th>Meta</Table.Th>
          <Table.Th>Fused</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {runs.map((r) => (
          <Table.Tr
            key={r.runId}
            bg={r.runId === selected ? 'var(--mantine-color-blue-light)' : undefined}
            style={{ cursor: 'pointer' }}
            onClick={() => r.status === 'done' && onSelect(r.runId)}
            data-testid={`run-${r.runId}`}
          >
            <Table.Td onClick={(e) => e.stopPropagation()}>
              <Checkbox
                size="xs"
                disabled={r.status !== 'done'}
                checked={compare.includes(r.runId)}
                onChange={(e) => onCompare(e.currentTarget.checked ? [...compare, r.runId].slice(-2) : compare.filter((x) => x !== r.runId))}
                aria-label={`compare run ${r.runId}`}
                data-testid={`compare-${r.runId}`}
              />
            </Table.Td>
            <Table.Td>
              #{r.runId} {/* A badge's label may otherwise shrink to nothing in a narrow cell ("S."): it keeps its whole word. */}
              {r.status !== 'done' && (
                <Badge size="xs" color="gray" style={{ minWidth: 'max-content' }}>
                  {r.status}
                </Badge>
              )}
              {r.staleImages > 0 && (
                <Badge
                  size="xs"
                  color="yellow"
                  style={{ minWidth: 'max-content' }}
                  title={`${r.staleImages} labels changed since this run`}
                  data-testid={`stale-${r.runId}`}
                >
                  stale
                </Badge>
              )}
              {r.finetune && (
                <Badge
                  size="xs"
                  color="grape"
                  style={{ minWidth: 'max-content' }}
                  title={`The CNN trained from ${r.finetune.cut}; frozen run #${r.finetune.baselineRunId} on the same folds`}
                  data-testid={`finetuned-${r.runId}`}
                >
                  fine-tuned
                </Badge>
              )}
            </Table.Td>
            <Table.Td style={{ overflowWrap: 'anywhere' }}>{r.positive ? r.positive.join('/') : r.label}</Table.Td>
            {r.modes ? MODES.map((m) => <Table.Td key={m}>{f3(r.modes![m].auc.value)}</Table.Td>) : <Table.Td colSpan={3}>{r.error ?? ''}</Table.Td>}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** Two runs side by side: configuration and every headline figure with its interval. */
export function CompareRuns({ runs }: { runs: RunListItem[] }) {
  const rows: [string, (r: RunListItem) => string][] = [
    ['Created', (r) => new Date(r.createdAt).toLocaleString()],
    ['Target', (r) => (r.positive ? `${r.positive.join('/')} vs rest` : r.label)],
    ['Features', (r) => r.backbone.slice(0, 24)],
    ['Fields', (r) => r.fields.join(', ')],
    ['Folds / group / seed', (r) => `${r.folds} / ${r.group} / ${r.seed}`],
    ['Images', (r) => String(r.images)],
    ['Fusion', (r) => r.fusion ?? ''],
    [
      'Fine-tuned',
      (r) =>
        r.finetune
          ? `from ${r.finetune.cut} (${r.finetune.trainedConvolutions} of ${r.finetune.totalConvolutions} convs), vs run #${r.finetune.baselineRunId}`
          : 'no (frozen features)',
    ],
    ...MODES.flatMap((m): [string, (r: RunListItem) => string][] => [
      [`AUC ${m}`, (r) => (r.modes ? `${f3(r.modes[m].auc.value)} [${f3(r.modes[m].auc.ci[0])}, ${f3(r.modes[m].auc.ci[1])}]` : '')],
      [
        `Balanced acc. ${m}`,
        (r) => (r.modes ? `${f3(r.modes[m].balancedAccuracy.value)} [${f3(r.modes[m].balancedAccuracy.ci[0])}, ${f3(r.modes[m].balancedAccuracy.ci[1])}]` : ''),
      ],
    ]),
    ['Labels changed since', (r) => String(r.staleImages)],
  ];
  return (
    <Table fz="sm" data-testid="compare-table">
      <Table.Thead>
        <Table.Tr>
          <Table.Th />
          <>
            {runs.map((r) => (
              <Table.Th key={r.runId}>Run #{r.runId}</Table.Th>
            ))}
          </>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map(([name, get]) => (
          <Table.Tr key={name}>
            <Table.Td fw={600}>{name}</Table.Td>
            {runs.map((r) => (
              <Table.Td key={r.runId}>{get(r)}</Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
