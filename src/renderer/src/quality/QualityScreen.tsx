import { FocusRow } from '../FocusRow.tsx';
import { Badge, Button, Group, Image, Kbd, ScrollArea, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import type { DuplicateGroup, DuplicateReport } from '../../../shared/quality.ts';
import { api } from '../api.ts';
import { CallError, errorMessage, useCall } from '../errors.tsx';
import { useJobs } from '../jobs/JobsContext.tsx';
import { mediaUrl } from '../media.ts';
import { moveInList, typingOrModified, useWindowKeys } from '../keys.ts';

const VIEWS = [
  ['review', 'To review'],
  ['leaks', 'Across patients'],
  ['labels', 'Labels disagree'],
  ['confirmed', 'Confirmed'],
  ['dismissed', 'Dismissed'],
] as const;
type ViewName = (typeof VIEWS)[number][0];

function shown(g: DuplicateGroup, view: ViewName): boolean {
  switch (view) {
    case 'review':
      return g.status === 'unreviewed' || g.status === 'partly';
    case 'leaks':
      return g.status !== 'dismissed' && g.spansPatients;
    case 'labels':
      return g.status !== 'dismissed' && g.labelsDisagree;
    case 'confirmed':
      return g.status === 'confirmed';
    case 'dismissed':
      return g.status === 'dismissed';
    default: {
      const never: never = view;
      return never;
    }
  }
}

const STATUS_COLOR = { unreviewed: 'gray', partly: 'yellow', confirmed: 'green', dismissed: 'dark' } as const;

/**
 * Near-duplicates for review: run the scan, go through the groups (copies across patients first), and confirm one
 * lesion (its images then stay together in every split) or dismiss. Keys: ↑/↓ move, S same lesion, D not duplicates.
 */
export function QualityScreen() {
  const jobs = useJobs();
  const [view, setView] = useState<ViewName>('review');
  const [focus, setFocus] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const loaded = useCall(() => api['quality.duplicates']({}), [version]);
  const [report, setReport] = useState<DuplicateReport | null>(null);
  useEffect(() => {
    if (loaded.data) setReport(loaded.data);
  }, [loaded.data]);
  const groups = useMemo(() => report?.groups.filter((g) => shown(g, view)) ?? [], [report, view]);
  const current = groups[Math.min(focus, groups.length - 1)];

  const scan = async () => {
    setError(null);
    try {
      const job = await jobs.run({ kind: 'quality' });
      if (job.status === 'failed') setError(job.error?.message ?? 'The scan failed.');
    } catch (e) {
      setError(errorMessage(e));
    }
    setVersion((v) => v + 1);
  };
  const decide = async (decision: 'same' | 'different', detach?: number) => {
    if (!current) return;
    try {
      await api['quality.review']({ imageIds: current.members.map((m) => m.id), decision, detach });
      setError(null);
      setReport(await api['quality.duplicates']({}));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  useWindowKeys((e) => {
    if (typingOrModified(e) || moveInList(e, groups.length, setFocus)) return;
    if (e.key.toLowerCase() === 's') return void decide('same');
    if (e.key.toLowerCase() === 'd') return void decide('different');
  });

  if (loaded.error) return <CallError call={loaded} what="Reading the near-duplicates" />;
  const s = report?.scan;
  return (
    <Stack p="md" gap="sm">
      <Group justify="space-between">
        <Stack gap={2}>
          <Text size="sm" data-testid="scan-summary">
            {s
              ? `Last scan ${new Date(s.at).toLocaleString()}: ${s.images} images, ${s.pairs} near-duplicate pairs in ${s.groups} groups (${s.crossPatientGroups} across patients, ${s.labelConflictGroups} with disagreeing labels), ${s.outliers} outliers.`
              : 'No scan yet: scan to find near-duplicates (copies, crops, re-exports) and outliers.'}
          </Text>
          <Text size="xs" c="dimmed" data-testid="scan-rule">
            Near-duplicate when {report?.rule ?? '…'}
          </Text>
        </Stack>
        <Button size="xs" onClick={() => void scan()} disabled={jobs.current?.status === 'running'} data-testid="scan-start">
          {s ? 'Scan again' : 'Scan'}
        </Button>
      </Group>
      <SegmentedControl
        size="xs"
        value={view}
        onChange={(v) => {
          setView(v as ViewName);
          setFocus(0);
        }}
        data={VIEWS.map(([value, label]) => ({ value, label: `${label} (${report?.groups.filter((g) => shown(g, value)).length ?? 0})` }))}
        data-testid="group-view"
      />
      {error && (
        <Text c="red" size="xs" data-testid="quality-error">
          {error}
        </Text>
      )}
      {groups.length === 0 ? (
        <Text c="dimmed" size="sm" data-testid="no-groups">
          {report ? 'No groups here.' : 'Loading…'}
        </Text>
      ) : (
        <Group align="start" wrap="nowrap" gap="sm">
          <ScrollArea h={520} w={340}>
            <Text size="xs" c="dimmed" mb={4}>
              <Kbd>S</Kbd> same lesion · <Kbd>D</Kbd> not duplicates · <Kbd>↑</Kbd>/<Kbd>↓</Kbd> move
            </Text>
            <Table fz="xs" highlightOnHover data-testid="group-table">
              <Table.Tbody>
                {groups.map((g, i) => (
                  <FocusRow key={g.id} focused={g === current} onFocus={() => setFocus(i)} testId={`group-${g.id}`}>
                    <Table.Td>
                      <img src={mediaUrl('thumb', g.members[0]!.id)} alt="" width={32} height={32} style={{ objectFit: 'cover', borderRadius: 3 }} />
                    </Table.Td>
                    <Table.Td>{g.members.length} images</Table.Td>
                    <Table.Td>
                      {g.spansPatients && (
                        <Badge size="xs" color="red">
                          patients
                        </Badge>
                      )}
                      {g.labelsDisagree && (
                        <Badge size="xs" color="orange">
                          labels
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Badge size="xs" color={STATUS_COLOR[g.status]} data-testid={`group-status-${g.id}`}>
                        {g.status}
                      </Badge>
                    </Table.Td>
                  </FocusRow>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
          {current && <GroupDetail group={current} onDecide={(d, detach) => void decide(d, detach)} />}
        </Group>
      )}
    </Stack>
  );
}

function GroupDetail({ group, onDecide }: { group: DuplicateGroup; onDecide(d: 'same' | 'different', detach?: number): void }) {
  const pairText = (a: number, b: number) => {
    const p = group.pairs.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
    if (!p || p.hashBits === null) return null;
    return `hash ${p.hashBits} bits${p.cosine !== null ? `, cosine ${p.cosine.toFixed(2)}` : ''}`;
  };
  const decided = group.pairs.find((p) => p.decision !== null);
  return (
    <Stack style={{ flex: 1 }} gap="xs" data-testid="group-detail">
      <Group gap="xs" align="start">
        {group.members.map((m, i) => (
          <Stack key={m.id} gap={2} w={220}>
            <Image src={mediaUrl('image', m.id)} alt={m.externalId} h={200} fit="contain" radius="sm" />
            <Text size="xs" fw={600}>
              {m.externalId}
            </Text>
            <Text size="xs">
              patient {m.patient ?? '–'} · lesion {m.lesion ?? '–'} · {m.label ?? 'unlabelled'}
            </Text>
            {i > 0 && (
              <Text size="xs" c="dimmed">
                vs first: {pairText(group.members[0]!.id, m.id) ?? 'confirmed earlier'}
              </Text>
            )}
            {group.members.length > 2 && group.status !== 'dismissed' && (
              <Button size="compact-xs" variant="subtle" onClick={() => onDecide('different', m.id)} data-testid={`detach-${m.id}`}>
                Not a copy of the others
              </Button>
            )}
          </Stack>
        ))}
      </Group>
      {decided && (
        <Text size="xs" c="dimmed">
          Decided by {decided.author} on {new Date(decided.decidedAt!).toLocaleString()}.
        </Text>
      )}
      <Group gap={4}>
        <Button size="xs" color="green" onClick={() => onDecide('same')} data-testid="group-same">
          S · Same lesion (keep together in splits)
        </Button>
        <Button size="xs" variant="default" onClick={() => onDecide('different')} data-testid="group-different">
          D · Not duplicates
        </Button>
      </Group>
    </Stack>
  );
}
