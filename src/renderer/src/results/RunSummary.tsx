import { Alert, Badge, Card, Collapse, Group, SimpleGrid, Stack, Table, Text, UnstyledButton } from '@mantine/core';
import { useState } from 'react';
import { formatP, MODES, type RunReportView } from '../../../shared/results.ts';
import { verdictOf } from '../../../shared/verdict.ts';
import { MODE_COLORS } from './chartOptions.ts';
import { FinetuneCompare } from './FinetuneCompare.tsx';
import { PairedHeaders, Term } from './Term.tsx';
import { useFieldName } from '../fieldNames.tsx';

const f3 = (x: number) => x.toFixed(3);
const ci = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;
const MODE_NAMES = { image: 'Image only', metadata: 'Metadata only', fused: 'Fused' } as const;
const TONE_COLOURS = { gain: 'green', none: 'gray', worse: 'orange' } as const;

/** Fields flagged as possible leakage, one row each, folded away until asked for (unless the run used one). */
function LeakageTable({ r }: { r: RunReportView }) {
  const fieldName = useFieldName();
  const used = r.leakage.filter((l) => r.run.fields.includes(l.field));
  const [open, setOpen] = useState(used.length > 0);
  if (r.leakage.length === 0) return null;
  return (
    <Stack gap={4} data-testid="leakage">
      <UnstyledButton onClick={() => setOpen((o) => !o)} aria-expanded={open} data-testid="leakage-toggle">
        <Text size="sm" fw={600} c={used.length > 0 ? 'orange.9' : undefined}>
          {open ? '▾' : '▸'} Possible leakage: {r.leakage.length} field{r.leakage.length === 1 ? '' : 's'} flagged
          {used.length > 0 ? `, ${used.length} used by this run` : ', none used by this run'}
        </Text>
      </UnstyledButton>
      <Collapse expanded={open}>
        <Table fz="xs" data-testid="leakage-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Field</Table.Th>
              <Table.Th>Why it is flagged</Table.Th>
              <Table.Th>
                <Term name="Cramér's V" />
              </Table.Th>
              <Table.Th>In this run</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {r.leakage.map((l) => (
              <Table.Tr key={l.field} data-testid={`leakage-${l.field}`} title={l.message}>
                <Table.Td>{fieldName(l.field)}</Table.Td>
                <Table.Td>
                  {l.kind === 'post-diagnosis'
                    ? 'recorded after or because of the diagnosis'
                    : 'whether it is missing follows the label: a model can learn the label from the gap alone'}
                </Table.Td>
                <Table.Td>{l.kind === 'missingness' ? l.strength.toFixed(2) : '–'}</Table.Td>
                <Table.Td>
                  {r.run.fields.includes(l.field) ? (
                    <Badge color="orange.9" size="sm" data-testid="leakage-used">
                      used
                    </Badge>
                  ) : (
                    'left out'
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Collapse>
    </Stack>
  );
}

/**
 * The fields a run left out: those flagged as leakage by name only (the table below says why, once each), the
 * others with their reason.
 */
function leftOut(r: RunReportView): string {
  const flagged = new Set(r.leakage.map((l) => l.field));
  const leak = r.fieldsExcluded.filter((f) => flagged.has(f.field)).map((f) => f.field);
  const other = r.fieldsExcluded.filter((f) => !flagged.has(f.field)).map((f) => `${f.field} (${f.reason})`);
  return [
    leak.length > 0 ? ` Left out as possible leakage (see the table below): ${leak.join(', ')}.` : '',
    other.length > 0 ? ` Left out: ${other.join('; ')}.` : '',
  ].join('');
}

/** Whether the metadata helped, at a glance: a verdict that follows the paired tests, the three modes, the tests. */
export function RunSummary({ r }: { r: RunReportView }) {
  const verdict = verdictOf({
    auc: { image: r.modes.image.auc.value, metadata: r.modes.metadata.auc.value, fused: r.modes.fused.auc.value },
    fusedVsImage: r.comparisons[0]!,
    fusedVsMetadata: r.comparisons[1]!,
  });
  return (
    <Stack gap="sm">
      <Alert color={TONE_COLOURS[verdict.tone]} data-testid="verdict" data-tone={verdict.tone}>
        {verdict.text}
      </Alert>
      <SimpleGrid cols={3}>
        {MODES.map((m) => (
          <Card withBorder key={m} data-testid={`mode-${m}`} style={{ borderTop: `4px solid ${MODE_COLORS[m]}` }}>
            <Group justify="space-between">
              <Text size="xs" c="dimmed">
                {MODE_NAMES[m]}
              </Text>
              {m === verdict.best && (
                <Badge size="xs" data-testid="best-mode">
                  highest AUC
                </Badge>
              )}
            </Group>
            <Text size="xl" fw={700}>
              <Term name="AUC" /> {f3(r.modes[m].auc.value)}
            </Text>
            <Text size="xs">
              <Term name="95% CI" /> {ci(r.modes[m].auc.ci)}
            </Text>
            <Text size="xs">
              <Term name="balanced accuracy" /> {f3(r.modes[m].balancedAccuracy.value)} {ci(r.modes[m].balancedAccuracy.ci)}
            </Text>
            <Text size="xs" c="dimmed">
              <Term name="Brier" /> {f3(r.modes[m].brier)} · <Term name="ECE" /> {f3(r.modes[m].calibrationError)}
            </Text>
          </Card>
        ))}
      </SimpleGrid>
      <Table fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Paired comparison (patient bootstrap)</Table.Th>
            <PairedHeaders />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {r.comparisons.map((c) => (
            <Table.Tr key={c.name}>
              <Table.Td>{c.name}</Table.Td>
              <Table.Td>{f3(c.difference)}</Table.Td>
              <Table.Td>{ci(c.ci)}</Table.Td>
              <Table.Td>{formatP(c.p)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {r.run.finetune && (
        <FinetuneCompare f={r.run.finetune} auc={{ image: r.modes.image.auc.value, metadata: r.modes.metadata.auc.value, fused: r.modes.fused.auc.value }} />
      )}
      <Text size="xs" c="dimmed">
        All figures are <Term name="out-of-fold" />: {r.run.images} images, {r.run.folds} folds grouped by {r.run.group}, seed {r.run.seed}; fields{' '}
        {r.run.fields.join(', ')}; fusion {r.run.fusion}
        {r.run.heads ? `; single-modality heads: ${r.run.heads}` : ''}.{leftOut(r)}
      </Text>
      {r.consensus && r.consensus.rule !== 'latest' && (
        <Text size="xs" c="dimmed" data-testid="run-consensus">
          Labels:{' '}
          {r.consensus.rule === 'adjudicated'
            ? "the adjudicators' decisions, else the majority of the annotators"
            : `the ${r.consensus.rule} consensus of the annotators`}{' '}
          ({r.consensus.differing} images differ from their latest label).
        </Text>
      )}
      {r.duplicates && r.duplicates.pairs > 0 && (
        <Text size="xs" c="dimmed" data-testid="run-duplicates">
          {r.duplicates.crossedFolds} near-duplicate pairs crossed folds before merging; {r.duplicates.merges} of {r.duplicates.pairs} pairs joined two{' '}
          {r.run.group}s and were kept in one fold ({r.duplicates.include === 'confirmed' ? 'confirmed pairs only' : 'confirmed and unreviewed pairs'}).
        </Text>
      )}
      {r.subgroups.summary && (
        <Alert color={r.subgroups.gaps.some((g) => g.mode === 'fused' && g.significant) ? 'orange' : 'gray'} data-testid="subgroup-summary">
          {r.subgroups.summary}
        </Alert>
      )}
      <LeakageTable r={r} />
    </Stack>
  );
}
