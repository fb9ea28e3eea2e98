import { Button, Group, Image, ScrollArea, SegmentedControl, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { Disagreement } from '../../../shared/team.ts';
import type { ImageDetail, LabelClass } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { CallError, errorMessage, useCall } from '../errors.tsx';
import { mediaUrl } from '../media.ts';
import { TableHead } from '../TableHead.tsx';
import { ZoomImage } from '../workbench/ZoomImage.tsx';
import { moveInList, typingOrModified, useWindowKeys } from '../keys.ts';
import { useFieldName } from '../fieldNames.tsx';

/**
 * The adjudicator's queue: images whose annotators disagree. Each shows every label with who gave it, the metadata,
 * and the newest run's out-of-fold probabilities; the decision (a class and its reason) becomes the image's label.
 * Keys: ↑/↓ move, the class keys pick the class, Enter in the reason decides.
 */
export function AdjudicationScreen() {
  const [decided, setDecided] = useState(false);
  const [version, setVersion] = useState(0);
  const [focus, setFocus] = useState(0);
  const list = useCall(() => api['team.disagreements']({ decided }), [decided, version]);
  const labelSet = useCall(() => api['labelSets.get']({}), []);
  const me = useCall(() => api['team.me']({}), []);
  const rows = list.data ?? [];
  const current = rows[Math.min(focus, rows.length - 1)];
  useWindowKeys((e) => {
    if (typingOrModified(e)) return;
    moveInList(e, rows.length, setFocus);
  });
  return (
    <Group align="stretch" h="100%" gap={0} wrap="nowrap" data-testid="adjudication">
      <Stack w={340} p="sm" gap="xs" style={{ borderRight: '1px solid var(--mantine-color-gray-3)' }}>
        <SegmentedControl
          size="xs"
          data={[
            { value: 'open', label: 'To decide' },
            { value: 'decided', label: 'Decided' },
          ]}
          value={decided ? 'decided' : 'open'}
          onChange={(v) => {
            setDecided(v === 'decided');
            setFocus(0);
          }}
        />
        {list.error && <CallError call={list} what="Reading the disagreements" />}
        <Text size="xs" c="dimmed" data-testid="disagreement-count">
          {rows.length} {decided ? 'decided' : 'to decide'}
        </Text>
        <ScrollArea style={{ flex: 1 }}>
          {rows.map((d, i) => (
            <Group
              key={d.imageId}
              gap="xs"
              p={4}
              wrap="nowrap"
              bg={i === focus ? 'var(--mantine-color-blue-light)' : undefined}
              style={{ cursor: 'pointer' }}
              onClick={() => setFocus(i)}
              data-testid="disagreement-row"
            >
              <Image src={mediaUrl('thumb', d.imageId)} w={40} h={40} radius="sm" alt="" />
              <Stack gap={0}>
                <Text size="xs" fw={600}>
                  {d.externalId}
                </Text>
                <Text size="xs" c="dimmed">
                  {d.labels.map((l) => `${l.author}: ${l.label}`).join(' · ')}
                </Text>
              </Stack>
            </Group>
          ))}
        </ScrollArea>
      </Stack>
      {current ? (
        <Decision
          key={`${current.imageId}-${version}`}
          d={current}
          classes={labelSet.data?.classes ?? []}
          own={!!me.data && !me.data.adjudicateOwn && current.labels.some((l) => l.author === me.data!.name)}
          onDecided={() => setVersion((v) => v + 1)}
        />
      ) : (
        <Text p="md" data-testid="no-disagreements">
          {list.loading ? 'Reading…' : decided ? 'No decisions yet.' : 'No disagreements to decide.'}
        </Text>
      )}
    </Group>
  );
}

/** `own`: the person deciding labelled this image and the project does not let them decide it (the server refuses too). */
function Decision({ d, classes, own, onDecided }: { d: Disagreement; classes: LabelClass[]; own: boolean; onDecided(): void }) {
  const fieldName = useFieldName();
  const [detail, setDetail] = useState<ImageDetail | null>(null);
  const [choice, setChoice] = useState<string | null>(d.decision?.label ?? null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api['images.get']({ id: d.imageId }).then(setDetail, (err: unknown) => setError(errorMessage(err)));
  }, [d.imageId]);
  useWindowKeys((e) => {
    if (typingOrModified(e)) return;
    const c = classes.find((x) => x.hotkey === e.key);
    if (c) setChoice(c.name);
  });
  const decide = async () => {
    setError(null);
    if (!choice) return setError('Choose the class.');
    try {
      await api['team.adjudicate']({ imageId: d.imageId, className: choice, reason });
      onDecided();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <ScrollArea style={{ flex: 1 }}>
      <Stack p="md" gap="sm">
        <Title order={4}>{d.externalId}</Title>
        <ZoomImage src={mediaUrl('image', d.imageId)} alt={d.externalId} height={340} />
        <Table fz="sm" data-testid="disagreement-labels">
          <TableHead columns={['Annotator', 'Label', 'When']} />
          <Table.Tbody>
            {d.labels.map((l) => (
              <Table.Tr key={l.author}>
                <Table.Td>{l.author}</Table.Td>
                <Table.Td fw={600}>{l.label}</Table.Td>
                <Table.Td>{new Date(l.at).toLocaleString()}</Table.Td>
              </Table.Tr>
            ))}
            {d.reference && (
              <Table.Tr data-testid="disagreement-reference" bg="var(--mantine-color-gray-1)">
                <Table.Td>
                  <i>Imported label (reference, not an annotator)</i>
                </Table.Td>
                <Table.Td fw={600}>{d.reference}</Table.Td>
                <Table.Td />
              </Table.Tr>
            )}
          </Table.Tbody>
        </Table>
        <Text size="sm" data-testid="disagreement-model">
          {d.model
            ? `Model (run ${d.model.runId}, fused, out of fold): ${d.model.probabilities.map((p) => `${p.className} ${(p.probability * 100).toFixed(0)}%`).join(', ')}`
            : 'No training run has scored this image.'}
        </Text>
        {d.decision && (
          <Text size="sm" data-testid="disagreement-decision">
            Decided {d.decision.label} by {d.decision.author}: {d.decision.reason}
          </Text>
        )}
        {detail && (
          <Text size="xs" c="dimmed">
            {Object.entries(detail.metadata)
              .map(([k, v]) => `${fieldName(k)}: ${v === null ? '–' : String(v)}`)
              .join(' · ')}
          </Text>
        )}
        <Group gap={6}>
          {classes.map((c) => (
            <Button
              key={c.name}
              size="xs"
              variant={choice === c.name ? 'filled' : 'light'}
              onClick={() => setChoice(c.name)}
              data-testid={`decide-${c.name}`}
              data-class-chip={c.name}
            >
              {c.hotkey ? `${c.hotkey} · ` : ''}
              {c.name}
            </Button>
          ))}
        </Group>
        <Group align="end" gap="xs">
          <TextInput
            size="xs"
            w={420}
            label="Reason"
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') void decide();
            }}
            data-testid="decide-reason"
          />
          <Button size="xs" onClick={() => void decide()} disabled={own} data-testid="decide">
            Decide
          </Button>
        </Group>
        {own && (
          <Text size="sm" c="red.9" data-testid="decide-own">
            You labelled this image yourself, so another adjudicator decides it (an admin can allow deciding one&apos;s own disputes under Tasks → Accounts).
          </Text>
        )}
        {error && (
          <Text c="red" size="sm" data-testid="decide-error">
            {error}
          </Text>
        )}
      </Stack>
    </ScrollArea>
  );
}
