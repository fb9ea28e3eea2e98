import { SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { MODES } from '../../../shared/results.ts';
import type { ValidationReport } from '../../../shared/validation.ts';
import { api } from '../api.ts';
import { Chart, type ChartOption } from '../charts/Chart.tsx';
import { useCall } from '../errors.tsx';
import { calibrationOption, confusionOption, plainRocOption, rocOption, subgroupOption } from './chartOptions.ts';
import { Subgroups } from './SubgroupsView.tsx';
import { TableHead } from '../TableHead.tsx';

const f3 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));

/** The run's ROC and calibration (cross-validated) beside the external set's, drawn by the run report's own charts. */
function CurvesBeside({ r }: { r: ValidationReport & { id: number } }) {
  const run = useCall(() => api['runs.report']({ runId: r.runId }), [r.runId]);
  const internal = useMemo(() => (run.data ? { roc: rocOption(run.data), cal: calibrationOption(run.data) } : null), [run.data]);
  const external = useMemo(() => ({ roc: plainRocOption(r), cal: calibrationOption(r) }), [r]);
  const chart = (title: string, option: ChartOption | undefined, name: string) => (
    <div>
      <Title order={6}>{title}</Title>
      {option ? <Chart option={option} height={300} name={name} testId={`chart-${name}`} /> : <Text c="dimmed">Loading…</Text>}
    </div>
  );
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} data-testid="validation-curves">
      {chart('ROC, internal (cross-validated)', internal?.roc, `run-${r.runId}-roc`)}
      {chart('ROC, external', external.roc, `validation-${r.id}-roc`)}
      {chart('Calibration, internal', internal?.cal, `run-${r.runId}-calibration`)}
      {chart('Calibration, external', external.cal, `validation-${r.id}-calibration`)}
    </SimpleGrid>
  );
}

/** Recalibration on a slice of the external set, judged on the rest: apart from every other figure of the report. */
function Recalibration({ rc }: { rc: NonNullable<ValidationReport['recalibration']> }) {
  return (
    <Stack gap={4} data-testid="validation-recalibration">
      <Title order={5}>Recalibrated on a slice (apart from the figures above)</Title>
      <Text size="sm">
        A Platt map per mode fitted on {rc.fit.images} images of {rc.fit.groups} patients ({Math.round(100 * rc.fraction)}% of the patients), judged on the
        other {rc.heldOut.images} images of {rc.heldOut.groups} patients.
      </Text>
      <Table withTableBorder fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>mode</Table.Th>
            <Table.Th>ECE before → after</Table.Th>
            <Table.Th>Brier before → after</Table.Th>
            <Table.Th>AUC (held-out part)</Table.Th>
            <Table.Th>slope, intercept</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {MODES.map((m) => {
            const x = rc.modes[m];
            return (
              <Table.Tr key={m} data-testid={`recalibration-${m}`}>
                <Table.Td>{m}</Table.Td>
                <Table.Td>
                  {f3(x.before.calibrationError)} → {f3(x.after.calibrationError)}
                </Table.Td>
                <Table.Td>
                  {f3(x.before.brier)} → {f3(x.after.brier)}
                </Table.Td>
                <Table.Td>
                  {f3(x.before.auc)} → {f3(x.after.auc)}
                </Table.Td>
                <Table.Td>
                  {f3(x.slope)}, {f3(x.intercept)}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

/** Likely label errors of the external set, most suspect first, with each mode's probability of the given label. */
function ExternalLabelIssues({ issues }: { issues: NonNullable<ValidationReport['labelIssues']> }) {
  if (issues.length === 0) return <Text c="dimmed">No likely label errors: every external label agrees with the fused model above its class threshold.</Text>;
  return (
    <Table withTableBorder fz="sm" data-testid="validation-label-issues">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>image</Table.Th>
          <Table.Th>label (as the run reads it)</Table.Th>
          <Table.Th>the model says</Table.Th>
          {MODES.map((m) => (
            <Table.Th key={m}>p of the label, {m}</Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {issues.map((x) => (
          <Table.Tr key={x.externalId} data-testid={`validation-issue-${x.externalId}`}>
            <Table.Td>{x.externalId}</Table.Td>
            <Table.Td>
              {x.label} ({x.truth})
            </Table.Td>
            <Table.Td>{x.suggested}</Table.Td>
            {MODES.map((m) => (
              <Table.Td key={m}>{f3(x.pLabel[m])}</Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The external report's curves beside the run's, its subgroups, the recalibration asked for and the likely label errors. */
/** Each mode's yes/no calls on the external set at the run's operating point (binary), and the fused confusion matrix. */
function Decisions({ r }: { r: ValidationReport & { id: number } }) {
  const cm = useMemo(() => confusionOption(r.modes.fused.confusion, r.classes), [r]);
  const f3 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
  const binary = MODES.some((m) => r.modes[m].operating);
  return (
    <SimpleGrid cols={binary ? 2 : 1}>
      {binary && (
        <Table fz="xs" data-testid="external-operating">
          <TableHead columns={["at the run's operating point", 'sensitivity', 'specificity', 'PPV', 'NPV']} />
          <Table.Tbody>
            {MODES.map((m) => {
              const o = r.modes[m].operating;
              return (
                <Table.Tr key={m}>
                  <Table.Td>{m}</Table.Td>
                  <Table.Td>{f3(o?.sensitivity)}</Table.Td>
                  <Table.Td>{f3(o?.specificity)}</Table.Td>
                  <Table.Td>{f3(o?.ppv)}</Table.Td>
                  <Table.Td>{f3(o?.npv)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <Stack gap={2}>
        <Text size="xs" fw={600}>
          Fused model on the external set: true class (rows) by its call (columns)
        </Text>
        <Chart option={cm} height={300} name={`validation-${r.id}-confusion`} testId="external-confusion" />
      </Stack>
    </SimpleGrid>
  );
}

export function ExternalFigures({ r }: { r: ValidationReport & { id: number } }) {
  const [field, setField] = useState<string | null>(r.subgroups.rows[0]?.field ?? null);
  const option = useMemo(() => (field ? subgroupOption(r, field) : null), [r, field]);
  return (
    <Stack gap="xs">
      <CurvesBeside r={r} />
      <Decisions r={r} />
      <Title order={5}>Subgroups of the external set</Title>
      <Subgroups
        table={r.subgroups}
        unit="patient"
        basis="the external predictions"
        field={field}
        onField={setField}
        option={option}
        name={`validation-${r.id}`}
      />
      {r.recalibration && <Recalibration rc={r.recalibration} />}
      <Title order={5}>Likely label errors of the external set</Title>
      <ExternalLabelIssues issues={r.labelIssues ?? []} />
    </Stack>
  );
}
