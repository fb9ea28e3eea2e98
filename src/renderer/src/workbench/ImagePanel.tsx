import { paletteColor } from '../../../shared/palette.ts';
import { History } from './History.tsx';
import { Badge, Button, Group, ScrollArea, Stack, Text, Title } from '@mantine/core';
import type { BrowseCounts, ImageDetail } from '../../../shared/types.ts';
import { mediaUrl } from '../media.ts';
import { MetadataForm } from './MetadataForm.tsx';
import { ZoomImage } from './ZoomImage.tsx';
import { useEffect, useRef } from 'react';
import { useLesionExplain } from '../results/LesionExplain.tsx';

/** Thumbnails of other images of the same lesion or patient; a click shows one in the panel. */
function Related({ title, ids, onOpen }: { title: string; ids: number[]; onOpen(id: number): void }) {
  if (ids.length === 0) return null;
  return (
    <Stack gap={2}>
      <Text size="xs" fw={600}>
        {title} ({ids.length})
      </Text>
      <Group gap={4}>
        {ids.slice(0, 24).map((id) => (
          <img
            key={id}
            src={mediaUrl('thumb', id)}
            alt={`image ${id}`}
            width={56}
            height={56}
            style={{ objectFit: 'cover', borderRadius: 4, cursor: 'pointer' }}
            onClick={() => onOpen(id)}
            data-testid={`related-${id}`}
          />
        ))}
      </Group>
    </Stack>
  );
}

/** The selected image large, its label buttons (with their keys), the metadata form and the label history. */
export function ImagePanel({
  detail,
  classes,
  large,
  onLabel,
  onSaved,
  onOpen,
  onToggleLarge,
  beside = false,
}: {
  /** Metadata and history in a column beside the photo (the task queue, which has the width), not below it. */
  beside?: boolean;
  detail: ImageDetail;
  classes: BrowseCounts['classes'];
  large: boolean;
  onLabel(name: string | null): void;
  onSaved(d: ImageDetail): void;
  onOpen(id: number): void;
  onToggleLarge(): void;
}) {
  const explain = useLesionExplain(detail.id);
  // Enlarging (Enter) shows the photo from its top, not the form the panel was scrolled to.
  const viewport = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (large) viewport.current?.scrollTo({ top: 0 });
  }, [large]);
  const record = (
    <>
      <Title order={5}>Metadata</Title>
      <MetadataForm detail={detail} onSaved={onSaved} />
      <Title order={5}>History</Title>
      <History detail={detail} />
    </>
  );
  return (
    <ScrollArea h="100%" viewportRef={viewport} data-testid="image-panel">
      <Group align="start" wrap="nowrap" gap="md">
        <Stack gap="sm" p="sm" style={{ flex: 1, minWidth: 0 }}>
          <Group justify="space-between">
            <Title order={4} data-testid="detail-id">
              {detail.externalId}
            </Title>
            <Button size="compact-xs" variant="subtle" onClick={onToggleLarge} data-testid="toggle-large">
              {large ? 'Smaller (Enter)' : 'Larger (Enter)'}
            </Button>
          </Group>
          <ZoomImage src={mediaUrl('image', detail.id)} alt={detail.externalId} height={large ? 'calc(100vh - 260px)' : 340} overlay={explain.overlay} />
          {explain.controls}
          <Text size="xs" c="dimmed">
            {detail.width}×{detail.height} px · patient {detail.patient ?? '–'} · lesion {detail.lesion ?? '–'} · {detail.sameLesion.length} more of this
            lesion, {detail.samePatient.length} of this patient
          </Text>
          <Group gap={6}>
            {classes.map((c, i) => (
              <Button
                key={c.name}
                size="xs"
                color={c.color ?? paletteColor(i, c.name)}
                variant={detail.label === c.name ? 'filled' : 'light'}
                onClick={() => onLabel(c.name)}
                data-testid={`set-${c.name}`}
                data-class-chip={c.name}
              >
                {c.hotkey ? `${c.hotkey} · ` : ''}
                {c.name}
              </Button>
            ))}
            <Button size="xs" variant="subtle" color="gray" onClick={() => onLabel(null)}>
              Del · clear
            </Button>
          </Group>
          <Text size="sm" data-testid="detail-label">
            Label: {detail.label ?? 'none'} {detail.unsure && <Badge color="yellow">unsure</Badge>}
          </Text>
          {detail.suggestion && (
            <Text size="sm" c="grape" data-testid="detail-suggestion">
              Suggested: {detail.suggestion.label} ({Math.round(detail.suggestion.probability * 100)}%) — press A to accept, or a number key to correct
            </Text>
          )}
          <Related title="Same lesion" ids={detail.sameLesion} onOpen={onOpen} />
          <Related title="Same patient" ids={detail.samePatient.filter((id) => !detail.sameLesion.includes(id))} onOpen={onOpen} />
          {!beside && record}
        </Stack>
        {beside && (
          <Stack gap="sm" p="sm" w={420} style={{ flexShrink: 0 }} data-testid="record-beside">
            {record}
          </Stack>
        )}
      </Group>
    </ScrollArea>
  );
}
