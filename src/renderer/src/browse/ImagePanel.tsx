import { Badge, Button, Group, Image, ScrollArea, Stack, Table, Text, Title } from '@mantine/core';
import type { ImageDetail, ImageList } from '../../../shared/types.ts';
import { mediaUrl } from '../media.ts';
import { MetadataForm } from './MetadataForm.tsx';

/** The selected image large, its label buttons (with their keys), the metadata form and the label history. */
export function ImagePanel({ detail, classes, onLabel, onSaved }: { detail: ImageDetail; classes: ImageList['classes']; onLabel(name: string | null): void; onSaved(d: ImageDetail): void }) {
  return (
    <ScrollArea h="100%" data-testid="image-panel">
      <Stack gap="sm" p="sm">
        <Title order={4} data-testid="detail-id">
          {detail.externalId}
        </Title>
        <a href={mediaUrl('image', detail.id)} target="_blank" rel="noreferrer">
          <Image src={mediaUrl('image', detail.id)} alt={detail.externalId} radius="sm" mah={360} fit="contain" />
        </a>
        <Text size="xs" c="dimmed">
          {detail.width}×{detail.height} px · patient {detail.patient ?? '–'} · lesion {detail.lesion ?? '–'} · {detail.sameLesion.length} more of this lesion, {detail.samePatient.length} of this patient
        </Text>
        <Group gap={6}>
          {classes.map((c) => (
            <Button key={c.name} size="xs" variant={detail.label === c.name ? 'filled' : 'light'} onClick={() => onLabel(c.name)} data-testid={`set-${c.name}`}>
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
        <Title order={5}>Metadata</Title>
        <MetadataForm detail={detail} onSaved={onSaved} />
        <Title order={5}>History</Title>
        <Table fz="xs">
          <Table.Tbody>
            {detail.history.map((h, i) => (
              <Table.Tr key={i}>
                <Table.Td>{h.label ?? '(cleared)'}{h.unsure ? '?' : ''}</Table.Td>
                <Table.Td>{h.author}</Table.Td>
                <Table.Td>{h.source}</Table.Td>
                <Table.Td>{new Date(h.at).toLocaleString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Stack>
    </ScrollArea>
  );
}
