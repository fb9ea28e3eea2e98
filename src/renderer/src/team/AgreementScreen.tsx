import { Alert, Group, Progress, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import type { AgreementReport } from '../../../shared/team.ts';
import { api } from '../api.ts';
import { CallError, useCall } from '../errors.tsx';

const f3 = (x: number) => x.toFixed(3);
const ci = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;

/** Kappa as a light colour (black text stays legible on every one): red at 0 or below (chance), green at 1 (perfect). */
function kappaColour(k: number): string {
  const t = Math.max(0, Math.min(1, k));
  return `hsl(${Math.round(120 * t)}, 70%, ${85 - 15 * t}%)`;
}

/** Landis and Koch's words for kappa, as the legend reads them. */
const KAPPA_BANDS: [number, string][] = [
  [0, '≤ 0 chance'],
  [0.2, 'slight'],
  [0.4, 'fair'],
  [0.6, 'moderate'],
  [0.8, 'substantial'],
  [1, 'almost perfect'],
];
/** A kappa on fewer shared images than this is flagged: one pair in the issue rested on 3. */
const FEW_SHARED = 10;

/**
 * Agreement between the annotators of the primary label set, from each one's latest label per image: the headline
 * statistics with intervals, the pairwise Cohen's kappa matrix, per-class agreement, and each annotator against
 * the consensus.
 */
export function AgreementScreen() {
  const [taskId, setTaskId] = useState<number | null>(null);
  const tasks = useCall(() => api['team.tasks']({}), []);
  const call = useCall(() => api['team.agreement'](taskId === null ? {} : { taskId }), [taskId]);
  if (call.error) return <CallError call={call} what="Measuring agreement" />;
  const r = call.data;
  if (!r) return <Text p="md">Measuring agreement…</Text>;
  return (
    <Stack p="md" gap="sm" data-testid="agreement">
      <Group justify="space-between">
        <Title order={4}>Agreement on {r.labelSet}</Title>
        {(tasks.data?.length ?? 0) > 0 && (
          <Select
            size="xs"
            w={260}
            data={[{ value: '', label: 'Every image' }, ...(tasks.data ?? []).map((t) => ({ value: String(t.id), label: `Task: ${t.name}` }))]}
            value={taskId === null ? '' : String(taskId)}
            onChange={(v) => setTaskId(v ? Number(v) : null)}
            allowDeselect={false}
            data-testid="agreement-task"
          />
        )}
      </Group>
      <Text size="sm" data-testid="agreement-summary">
        {r.images === 0
          ? `No image has labels from two annotators yet (${r.annotators.map((a) => `${a.name}: ${a.images}`).join(', ') || 'no labels'}).`
          : `${r.images} images labelled by two annotators or more. Percent agreement ${f3(r.percentAgreement!)}; Fleiss' kappa ${f3(r.fleissKappa!.value)} ${ci(r.fleissKappa!.ci)}; Krippendorff's alpha ${f3(r.krippendorffAlpha!.value)} ${ci(r.krippendorffAlpha!.ci)} (95% intervals from ${r.resamples} resamples of images).`}
      </Text>
      {r.images > 0 && (
        <>
          <KappaMatrix report={r} />
          <Group align="start" gap="xl">
            <Stack gap={4} w={320}>
              <Text size="sm" fw={600}>
                Per class (specific agreement)
              </Text>
              {r.perClass.map((c) => (
                <Group key={c.className} gap="xs" wrap="nowrap" data-testid={`class-agreement-${c.className}`}>
                  <Text size="xs" w={80} truncate>
                    {c.className}
                  </Text>
                  <Progress value={(c.agreement ?? 0) * 100} w={160} />
                  <Text size="xs">{c.agreement === null ? '–' : f3(c.agreement)}</Text>
                </Group>
              ))}
            </Stack>
            <Stack gap={4}>
              <Text size="sm" fw={600}>
                Each annotator against the consensus (Dawid-Skene)
              </Text>
              {r.annotators.length < 3 && (
                <Text size="xs" c="orange.9" data-testid="consensus-caution">
                  Only {r.annotators.length} label sources: where two disagree, the consensus cannot tell which is right, so these accuracies can favour either
                  side (one who labels everything the same can look best). Read them with three or more sources.
                </Text>
              )}
              <Table fz="xs" data-testid="vs-consensus">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Annotator</Table.Th>
                    <Table.Th>Images</Table.Th>
                    <Table.Th>Agrees</Table.Th>
                    <Table.Th>Estimated accuracy</Table.Th>
                    {r.classes.map((c) => (
                      <Table.Th key={c}>Sens. {c}</Table.Th>
                    ))}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {r.vsConsensus.map((a) => (
                    <Table.Tr key={a.name}>
                      <Table.Td>{a.name}</Table.Td>
                      <Table.Td>{a.images}</Table.Td>
                      <Table.Td>{f3(a.accuracy)}</Table.Td>
                      <Table.Td>{f3(a.estimatedAccuracy)}</Table.Td>
                      {a.sensitivity.map((s, i) => (
                        <Table.Td key={r.classes[i]}>{s === null ? '–' : f3(s)}</Table.Td>
                      ))}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Stack>
          </Group>
          <Text size="sm" fw={600}>
            Each annotator&apos;s labels against the consensus (rows: consensus class; columns: the annotator&apos;s label)
          </Text>
          <Group align="start" gap="lg">
            {r.vsConsensus.map((a) => (
              <ConfusionGrid key={a.name} name={a.name} classes={r.classes} confusion={a.confusion} />
            ))}
          </Group>
        </>
      )}
      <Alert color="gray">
        Each annotator's latest label per image counts (imported labels as the annotator "imported"). Kappa corrects for chance agreement: 0 is chance, 1 is
        perfect.
      </Alert>
    </Stack>
  );
}

function KappaMatrix({ report: r }: { report: AgreementReport }) {
  const names = r.annotators.map((a) => a.name);
  const pair = (a: string, b: string) => r.pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a));
  return (
    <Group align="start" gap="lg">
      <Table fz="xs" withTableBorder withColumnBorders w="auto" data-testid="kappa-matrix">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Cohen's kappa</Table.Th>
            {names.map((n) => (
              <Table.Th key={n}>{n}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {names.map((a) => (
            <Table.Tr key={a}>
              <Table.Th>{a}</Table.Th>
              {names.map((b) => {
                const p = a === b ? null : pair(a, b);
                return (
                  <Table.Td
                    key={b}
                    bg={p ? kappaColour(p.kappa) : undefined}
                    c={p ? '#000' : undefined}
                    ta="center"
                    title={p ? `${p.images} images both labelled, agree ${f3(p.agreement)}, 95% CI ${ci(p.ci)}` : undefined}
                  >
                    {a === b ? (
                      ''
                    ) : p ? (
                      <>
                        <div data-testid={`kappa-${a}-${b}`}>{f3(p.kappa)}</div>
                        <div style={{ fontSize: 11 }} data-testid={`kappa-n-${a}-${b}`}>
                          n = {p.images}
                          {p.images < FEW_SHARED ? ' (few)' : ''}
                        </div>
                      </>
                    ) : (
                      '–'
                    )}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Stack gap={2} data-testid="kappa-legend">
        <Text size="xs" fw={600}>
          Cohen&apos;s kappa
        </Text>
        {KAPPA_BANDS.map(([k, name]) => (
          <Group key={name} gap={6} wrap="nowrap">
            <div style={{ width: 18, height: 12, background: kappaColour(k), border: '1px solid #adb5bd' }} />
            <Text size="xs">
              {k.toFixed(1)} {name}
            </Text>
          </Group>
        ))}
        <Text size="xs" c="dimmed" maw={200}>
          n: images both annotators labelled. Under {FEW_SHARED}, the kappa says little.
        </Text>
      </Stack>
    </Group>
  );
}

/** One annotator's confusion against the consensus as a grid, the diagonal (agreement) shaded. */
function ConfusionGrid({ name, classes, confusion }: { name: string; classes: string[]; confusion: number[][] }) {
  return (
    <Table fz="xs" withTableBorder withColumnBorders w="auto" data-testid={`confusion-${name}`}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{name}</Table.Th>
          {classes.map((c) => (
            <Table.Th key={c} ta="center">
              {c}
            </Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {confusion.map((row, t) => (
          <Table.Tr key={classes[t]}>
            <Table.Th>{classes[t]}</Table.Th>
            {row.map((n, l) => (
              <Table.Td key={classes[l]} ta="center" bg={t === l && n > 0 ? 'var(--mantine-color-green-1)' : undefined}>
                {n}
              </Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
