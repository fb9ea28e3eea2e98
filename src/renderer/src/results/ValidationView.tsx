import { Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { MODES, type Interval } from '../../../shared/results.ts';
import type { FieldShift, ValidationReport } from '../../../shared/validation.ts';
import { api } from '../api.ts';
import { CallError, useCall } from '../errors.tsx';
import { ExternalFigures } from './ExternalFigures.tsx';
import { ValidateForm } from './ValidateForm.tsx';

const f3 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
const iv = (x: Interval | null | undefined) => (x ? `${f3(x.value)} [${f3(x.ci[0])}, ${f3(x.ci[1])}]` : '–');
const pct = (x: number) => `${Math.round(100 * x)}%`;
const LEVEL_COLOUR: Record<FieldShift['level'], string> = { none: 'gray', moderate: 'yellow', major: 'red' };

/** One validation: the three modes beside the run's internal figures, how fields were read, and the shift panel. */
function ValidationReportView({ r }: { r: ValidationReport & { id: number } }) {
  const im = r.shift.images;
  const p = r.shift.prevalence;
  return (
    <Stack gap="xs" data-testid="validation-report">
      <Text size="sm">
        {r.source.description}: {r.images} images of {r.groups} patients; classes {r.classMap.map((c) => `${c.external} → ${c.run ?? 'left out'}`).join(', ')}.
      </Text>
      <Table withTableBorder data-testid="validation-modes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>mode</Table.Th>
            <Table.Th>internal AUC (CV)</Table.Th>
            <Table.Th>external AUC</Table.Th>
            <Table.Th>difference</Table.Th>
            <Table.Th>external balanced accuracy</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {MODES.map((m) => (
            <Table.Tr key={m} data-testid={`validation-mode-${m}`}>
              <Table.Td>{m}</Table.Td>
              <Table.Td>{iv(r.internal?.[m].auc)}</Table.Td>
              <Table.Td>{iv(r.modes[m].auc)}</Table.Td>
              <Table.Td>{iv(r.difference?.[m].auc)}</Table.Td>
              <Table.Td>{iv(r.modes[m].balancedAccuracy)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {r.fields
        .filter((f) => f.from === null)
        .map((f) => (
          <Text key={f.field} size="sm" c="orange" data-testid={`validation-absent-${f.field}`}>
            {f.field} is absent in the external set: imputed as {f.imputed}
            {f.costAuc === null ? '' : ` (on the run's own images this costs the fused model ${f3(-f.costAuc)} AUC)`}.
          </Text>
        ))}
      <Title order={5}>What shifted</Title>
      <Table withTableBorder data-testid="validation-shift">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>field</Table.Th>
            <Table.Th>training → external</Table.Th>
            <Table.Th>SMD</Table.Th>
            <Table.Th>PSI</Table.Th>
            <Table.Th>missing</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {r.shift.fields.map((s) => (
            <Table.Tr key={s.field} data-testid={`shift-${s.field}`}>
              <Table.Td>{s.field}</Table.Td>
              <Table.Td>
                {s.numbers
                  ? `mean ${f3(s.numbers.train.mean)} → ${f3(s.numbers.external.mean)}`
                  : (s.shares ?? []).map((x) => `${x.value} ${pct(x.train)}→${pct(x.external)}`).join(', ')}
              </Table.Td>
              <Table.Td>
                {f3(s.numbers?.smd)}
                {s.numbers?.smdCI && ` [${f3(s.numbers.smdCI[0])}, ${f3(s.numbers.smdCI[1])}]`}
              </Table.Td>
              <Table.Td>
                {f3(s.psi)}
                {s.psiP !== undefined && s.psiP !== null && ` (p ${s.psiP < 0.001 ? '< 0.001' : s.psiP.toFixed(3)})`}
              </Table.Td>
              <Table.Td>
                {pct(s.missing.train)} → {pct(s.missing.external)}
              </Table.Td>
              <Table.Td>
                <Badge color={LEVEL_COLOUR[s.level]}>{s.level}</Badge>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {im && (
        <Text size="sm" data-testid="shift-images">
          Photos: a classifier on the backbone features tells training from external images with AUC {iv(im.auc)} (0.5 = indistinguishable). Least like any
          training image: {im.leastLike.map((x) => `${x.externalId} (${f3(x.similarity)})`).join(', ')}.
        </Text>
      )}
      {p && (
        <Text size="sm" data-testid="shift-prevalence">
          Prevalence {pct(p.train)} → {pct(p.external)}: at the run&apos;s operating point the fused model&apos;s PPV is {f3(p.modes.fused.internal.ppv)}{' '}
          internally, {f3(p.modes.fused.internalAtExternalPrevalence.ppv)} expected at the external prevalence, {f3(r.modes.fused.operating?.ppv)} observed.
        </Text>
      )}
      {r.subgroups.summary && <Text size="sm">{r.subgroups.summary}</Text>}
      <ExternalFigures r={r} />
      {r.warnings.map((w) => (
        <Text key={w} size="xs" c="orange">
          {w}
        </Text>
      ))}
    </Stack>
  );
}

/** The run's external validations, a new one, and the chosen one's report. */
export function ValidationPanel({ runId }: { runId: number }) {
  const [version, setVersion] = useState(0);
  const [chosen, setChosen] = useState<number | null>(null);
  const [adding, setAdding] = useState(false);
  const list = useCall(() => api['validations.list']({ runId }), [runId, version]);
  const report = useCall(() => (chosen === null ? Promise.resolve(null) : api['validations.get']({ id: chosen })), [chosen]);
  // Validating runs a job over another set's data: an admin's call; others read the validations made.
  const me = useCall(() => api['team.me']({}), []);
  return (
    <Stack gap="xs" data-testid="validation-panel">
      <Group>
        {(list.data ?? []).map((v) => (
          <Button key={v.id} size="xs" variant={v.id === chosen ? 'filled' : 'light'} onClick={() => setChosen(v.id)} data-testid={`validation-${v.id}`}>
            #{v.id}: {v.images} images, fused {f3(v.modes.fused.auc.value)}
          </Button>
        ))}
        {me.data?.role === 'admin' && (
          <Button size="xs" variant="outline" onClick={() => setAdding((a) => !a)} data-testid="validate-new">
            Validate on another set…
          </Button>
        )}
      </Group>
      {list.error && <CallError call={list} what="Listing the validations" />}
      {report.error && <CallError call={report} what={`Opening validation #${chosen}`} />}
      {adding && (
        <ValidateForm
          runId={runId}
          onDone={(id) => {
            setAdding(false);
            setChosen(id);
            setVersion((x) => x + 1);
          }}
        />
      )}
      {report.data && <ValidationReportView r={report.data} />}
    </Stack>
  );
}
