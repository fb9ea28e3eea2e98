import { Alert, Stack, Table, Text } from '@mantine/core';
import { useMemo } from 'react';
import type { PermutationImportance } from '../../../shared/explain.ts';
import { Chart, type ChartOption } from '../charts/Chart.tsx';
import { escapeHtml } from './chartOptions.ts';
import { useFieldName } from '../fieldNames.tsx';

const f3 = (x: number) => x.toFixed(3);

/** Bars of the drop in AUC per block (largest on top) with its patient-bootstrap interval; leakage-warned fields in orange. */
export function importanceOption(imp: PermutationImportance, name: (block: string) => string = (b) => b): ChartOption {
  const rows = imp.rows;
  return {
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataIndex: number }) => {
        const r = rows[p.dataIndex]!;
        return `${escapeHtml(name(r.block))}: AUC drop ${f3(r.drop)} [${f3(r.ci[0])}, ${f3(r.ci[1])}]${r.leakage ? '<br>flagged by the leakage check' : ''}`;
      },
    },
    grid: { left: 130, right: 20, top: 10, bottom: 40 },
    xAxis: { type: 'value', name: 'drop in out-of-fold AUC when shuffled (95% CI)', nameLocation: 'middle', nameGap: 25 },
    yAxis: { type: 'category', inverse: true, data: rows.map((r) => name(r.block)) },
    series: [
      {
        type: 'bar',
        data: rows.map((r) => ({ value: r.drop, itemStyle: { color: r.leakage ? '#f08c00' : r.block === 'image' ? '#7048e8' : '#1c7ed6' } })),
      },
      {
        type: 'line',
        showSymbol: false,
        tooltip: { show: false },
        lineStyle: { width: 2, color: '#495057' },
        data: rows.flatMap((r, k) => [[r.ci[0], k], [r.ci[1], k], '-']),
        yAxisIndex: 0,
        encode: { x: 0, y: 1 },
        connectNulls: false,
      },
    ],
  };
}

/** What the fused model relies on: permutation importance of each field and the image, with a warning about leakage. */
export function Importance({ imp, runId }: { imp: PermutationImportance | null; runId: number }) {
  const fieldName = useFieldName();
  const option = useMemo(() => (imp ? importanceOption(imp, fieldName) : null), [imp, fieldName]);
  if (!imp || !option) return <Text c="dimmed">This run was trained before DermFuse measured what a model relies on: train it again to see it.</Text>;
  return (
    <Stack gap="xs" data-testid="importance">
      {imp.warning && (
        <Alert color="orange" data-testid="importance-warning">
          {imp.warning}
        </Alert>
      )}
      <Chart option={option} height={Math.max(160, 60 + 28 * imp.rows.length)} name={`run-${runId}-importance`} testId="chart-importance" />
      <Table fz="xs" data-testid="importance-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Block</Table.Th>
            <Table.Th>AUC drop</Table.Th>
            <Table.Th>95% CI</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {imp.rows.map((r) => (
            <Table.Tr key={r.block} data-testid={`importance-${r.block}`}>
              <Table.Td>
                {fieldName(r.block)}
                {r.leakage ? ' (leakage warning)' : ''}
              </Table.Td>
              <Table.Td>{f3(r.drop)}</Table.Td>
              <Table.Td>
                [{f3(r.ci[0])}, {f3(r.ci[1])}]
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        Each field (and the image block) shuffled among each fold&apos;s test images, {imp.repeats} times; the fused model&apos;s out-of-fold AUC ({f3(imp.auc)}
        ) minus its AUC shuffled. Intervals from {imp.resamples} patient-bootstrap resamples. A drop near 0 means the model does not rely on it.
      </Text>
    </Stack>
  );
}
