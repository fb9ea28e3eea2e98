import { FocusRow } from '../FocusRow.tsx';
import { Badge, Button, Group, Kbd, ScrollArea, Stack, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { LabelIssue } from '../../../shared/results.ts';
import { api } from '../api.ts';
import { moveInList, typingOrModified, useWindowKeys } from '../keys.ts';
import { mediaUrl } from '../media.ts';
import { ExplainPanel } from './ExplainPanel.tsx';
import { CallError, errorMessage, useCall } from '../errors.tsx';

/**
 * Likely label errors, most suspect first. Keys: ↑/↓ move, K keeps the label, R relabels to the suggestion, a
 * class's hotkey relabels to that class. Each decision is an annotation; a relabel makes the run stale.
 */
export function LabelIssues({ runId, onChanged }: { runId: number; onChanged(): void }) {
  const [issues, setIssues] = useState<LabelIssue[]>([]);
  const [focus, setFocus] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const loaded = useCall(() => Promise.all([api['runs.labelIssues']({ runId }), api['labelSets.get']({})]), [runId]);
  useEffect(() => {
    if (loaded.data) setIssues(loaded.data[0]);
  }, [loaded.data]);
  const classes = loaded.data?.[1].classes ?? [];
  // A run on a derived target ("not BCC/MEL/SCC") names no diagnosis: the one stored now is shown beside it.
  const derived = issues.some((x) => x.relabelTo === null);
  const current = issues[focus];
  const decide = async (decision: 'keep' | 'relabel', className?: string) => {
    if (!current) return;
    try {
      const r = await api['labels.review']({ runId, imageId: current.imageId, decision, className });
      setIssues((list) => list.map((x) => (x.imageId === current.imageId ? { ...x, review: r.review, currentLabel: r.currentLabel } : x)));
      setFocus((f) => Math.min(f + 1, issues.length - 1));
      setError(null);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  useWindowKeys((e) => {
    if (typingOrModified(e) || moveInList(e, issues.length, setFocus)) return;
    if (e.key.toLowerCase() === 'k') return void decide('keep');
    if (e.key.toLowerCase() === 'r' && current) {
      if (current.relabelTo === null) return setError(`"${current.suggested}" is a derived target: press the key of the class to set.`);
      return void decide('relabel', current.relabelTo);
    }
    const cls = classes.find((c) => c.hotkey !== null && c.hotkey.toLowerCase() === e.key.toLowerCase());
    if (cls) void decide('relabel', cls.name);
  });
  if (loaded.error) return <CallError call={loaded} what="Finding likely label errors" />;
  if (!loaded.data) return <Text c="dimmed">Finding likely label errors…</Text>;
  if (issues.length === 0)
    return <Text c="dimmed">{error ?? 'No likely label errors: every label agrees with the out-of-fold predictions above their class thresholds.'}</Text>;
  return (
    <Group align="start" wrap="nowrap" gap="sm">
      <ScrollArea h={480} style={{ flex: 1 }}>
        <Text size="xs" c="dimmed" mb={4}>
          {issues.length} images whose out-of-fold prediction confidently disagrees with their label (confident learning). <Kbd>K</Kbd> keep · <Kbd>R</Kbd>{' '}
          relabel to the suggestion · class key: relabel · <Kbd>↑</Kbd>/<Kbd>↓</Kbd> move
        </Text>
        <Table fz="xs" highlightOnHover data-testid="issue-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th />
              <Table.Th>Image</Table.Th>
              <Table.Th>{derived ? 'Target' : 'Label'}</Table.Th>
              {derived && <Table.Th title="The label stored for the image now (the target folds it into yes/no)">Diagnosis</Table.Th>}
              <Table.Th>Suggested</Table.Th>
              <Table.Th>P(label)</Table.Th>
              <Table.Th>Decision</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {issues.map((x, i) => (
              <FocusRow key={x.imageId} focused={i === focus} onFocus={() => setFocus(i)} testId={`issue-${x.externalId}`}>
                <Table.Td>{i + 1}</Table.Td>
                <Table.Td>
                  <img src={mediaUrl('thumb', x.imageId)} alt="" width={32} height={32} style={{ objectFit: 'cover', borderRadius: 3 }} />
                </Table.Td>
                <Table.Td>{x.externalId}</Table.Td>
                <Table.Td>{x.given}</Table.Td>
                {derived && <Table.Td data-testid={`issue-diagnosis-${x.externalId}`}>{x.currentLabel ?? 'unlabelled'}</Table.Td>}
                <Table.Td>{x.suggested}</Table.Td>
                <Table.Td>{(x.selfConfidence * 100).toFixed(0)}%</Table.Td>
                <Table.Td>
                  {x.review && (
                    <Badge size="xs" color={x.review === 'keep' ? 'gray' : 'yellow'} data-testid={`issue-review-${x.externalId}`}>
                      {x.review === 'keep' ? 'kept' : `→ ${x.currentLabel}`}
                    </Badge>
                  )}
                </Table.Td>
              </FocusRow>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea>
      {current && (
        <Stack w={320} gap={6}>
          <ExplainPanel runId={runId} imageId={current.imageId} externalId={current.externalId} mode="fused" height={260} rowPrediction={current.suggested} />
          <Text size="sm" fw={600}>
            {current.externalId}: labelled {current.given}
            {derived ? ` (diagnosis ${current.currentLabel ?? 'unlabelled'})` : ''}, the models say {current.suggested}
          </Text>
          <Group gap={4}>
            <Button size="xs" variant="default" onClick={() => void decide('keep')} data-testid="issue-keep">
              K · keep {current.given}
            </Button>
            {current.relabelTo !== null ? (
              <Button size="xs" color="yellow" onClick={() => void decide('relabel', current.relabelTo!)} data-testid="issue-relabel">
                R · relabel {current.relabelTo}
              </Button>
            ) : (
              <Text size="xs" c="dimmed">
                Relabel: press the key of the class ({classes.map((c) => `${c.hotkey ?? '–'} ${c.name}`).join(', ')}).
              </Text>
            )}
          </Group>
          {error && (
            <Text c="red" size="xs">
              {error}
            </Text>
          )}
        </Stack>
      )}
    </Group>
  );
}
