import { Badge, Group, Select, Stack, Table, Text } from '@mantine/core';
import { MODES, type SubgroupTable } from '../../../shared/results.ts';
import { Chart, type ChartOption } from '../charts/Chart.tsx';
import { useFieldName } from '../fieldNames.tsx';

const f3 = (x: number) => x.toFixed(3);
const ci = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);

/** Every subgroup of one field as a forest plot and a table, with the field's largest gap; fields not in the model say so. */
export function Subgroups({
  table: t,
  unit,
  basis,
  field,
  onField,
  option,
  name,
}: {
  table: SubgroupTable;
  /** What the bootstrap resampled: image, patient or lesion. */
  unit: string;
  /** Which predictions: a run's out-of-fold ones, or an external set's. */
  basis: string;
  field: string | null;
  onField(f: string | null): void;
  option: ChartOption | null;
  /** The chart's file name before the field. */
  name: string;
}) {
  const fieldName = useFieldName();
  if (t.rows.length === 0) return <Text c="dimmed">No field with two or more subgroups to slice by.</Text>;
  const fields = [...new Set(t.rows.map((s) => s.field))];
  const gaps = t.gaps.filter((g) => g.field === field);
  return (
    <Stack gap="xs">
      <Group align="end">
        <Select
          size="xs"
          w={220}
          label="Subgroups by"
          data={fields.map((f) => ({ value: f, label: t.notInModel.includes(f) ? `${fieldName(f)} (not a model input)` : fieldName(f) }))}
          value={field}
          onChange={onField}
          allowDeselect={false}
          data-testid="subgroup-field"
        />
        {gaps.map((g) => (
          <Badge key={g.mode} color={g.significant ? 'red' : 'gray'} variant="light" data-testid={`subgroup-gap-${g.mode}`}>
            {g.mode}: gap {f3(g.gap.value)} {ci(g.gap.ci)} ({g.best} vs {g.worst})
          </Badge>
        ))}
      </Group>
      {option && (
        <Chart
          option={option}
          height={Math.max(160, 70 + 34 * t.rows.filter((s) => s.field === field).length)}
          name={`${name}-subgroups-${field}`}
          testId="chart-subgroups"
        />
      )}
      <Table fz="xs" data-testid="subgroup-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Group</Table.Th>
            <Table.Th>n</Table.Th>
            <Table.Th>positives</Table.Th>
            {MODES.map((m) => (
              <Table.Th key={m}>AUC {m} (95% CI)</Table.Th>
            ))}
            <Table.Th>fused sens. / spec.</Table.Th>
            <Table.Th>fused ECE</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {t.rows
            .filter((s) => s.field === field)
            .map((s) => (
              <Table.Tr key={s.group} data-testid={`subgroup-row-${s.group}`}>
                <Table.Td>{s.group}</Table.Td>
                <Table.Td>{s.n}</Table.Td>
                <Table.Td>{s.positives ?? '–'}</Table.Td>
                {MODES.map((m) => (
                  <Table.Td key={m}>{s.modes[m].auc ? `${f3(s.modes[m].auc!.value)} ${ci(s.modes[m].auc!.ci)}` : 'too few'}</Table.Td>
                ))}
                <Table.Td>{s.tooFew ? '' : `${pct(s.modes.fused.sensitivity)} / ${pct(s.modes.fused.specificity)}`}</Table.Td>
                <Table.Td>{s.tooFew ? '' : f3(s.modes.fused.calibrationError!)}</Table.Td>
              </Table.Tr>
            ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        Intervals and gaps from {unit}-level bootstrap of {basis}; fewer than {t.minN} images, or fewer than {t.minPerClass} of a class: too few.
      </Text>
    </Stack>
  );
}
