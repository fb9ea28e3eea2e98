import { Badge, Button, Card, Container, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { paletteColor } from '../../../shared/palette.ts';
import { fieldLabel, type ProjectInfo } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { CallError, useCall } from '../errors.tsx';

/** The open project at a glance: counts, classes and the metadata schema. */
/** `onClose` absent: this person cannot open another project (an account on a server), so nothing offers to close it. */
export function ProjectHome({ info, onClose }: { info: ProjectInfo; onClose?: () => void }) {
  const hidden = info.countsHidden === true;
  // Each class in its own colour, as its chips elsewhere (the theme keeps the text at 4.5:1 on the tint).
  const labelSet = useCall(() => api['labelSets.get']({}), [info]);
  const colours = new Map((labelSet.data?.classes ?? []).map((c, i) => [c.name, c.color ?? paletteColor(i, c.name)]));
  const stats: [string, number | string][] = [
    ['Images', info.images],
    ['Labelled', hidden ? 'hidden' : info.labelled],
    ['Patients', info.patients],
    ['Lesions', info.lesions],
  ];
  return (
    <Container size="lg" py="lg">
      <Stack>
        <Group justify="space-between">
          <div>
            <Title order={2}>Project</Title>
            <Text c="dimmed" size="sm" data-testid="project-path">
              {info.dir}
            </Text>
          </div>
          {onClose && (
            <Button variant="default" onClick={onClose} data-testid="close-project">
              Close project
            </Button>
          )}
        </Group>
        <SimpleGrid cols={4}>
          {stats.map(([label, n]) => (
            <Card withBorder key={label}>
              <Text size="xs" c="dimmed">
                {label}
              </Text>
              <Text size="xl" fw={700} data-testid={`stat-${label.toLowerCase()}`}>
                {typeof n === 'number' ? n.toLocaleString() : n}
              </Text>
            </Card>
          ))}
        </SimpleGrid>
        {info.imagesFailed > 0 && <Text c="red">{info.imagesFailed} images could not be read (see the import report).</Text>}
        <Card withBorder>
          <Title order={4} mb="xs">
            Label “{info.label ?? 'none yet'}”
          </Title>
          <Group gap="xs">
            {Object.entries(info.classes).map(([name, n]) => (
              <Badge key={name} variant="light" size="lg" color={colours.get(name) ?? 'gray'} data-class-chip={name}>
                {hidden ? name : `${name}: ${n}`}
              </Badge>
            ))}
          </Group>
          <CallError call={labelSet} what="Reading the class colours" />
          {hidden && (
            <Text size="xs" c="dimmed" mt="xs" data-testid="counts-hidden">
              Label counts are hidden while a blind labelling task is open.
            </Text>
          )}
        </Card>
        <Card withBorder>
          <Title order={4} mb="xs">
            Metadata fields
          </Title>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Field</Table.Th>
                <Table.Th>Type</Table.Th>
                <Table.Th>Unit</Table.Th>
                <Table.Th>Values</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {info.fields.map((f) => (
                <Table.Tr key={f.name}>
                  <Table.Td>
                    {fieldLabel(f)}
                    {f.displayName && (
                      <Text span size="xs" c="dimmed">
                        {' '}
                        ({f.name})
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{f.type}</Table.Td>
                  <Table.Td>{f.unit ?? ''}</Table.Td>
                  <Table.Td>{f.allowedValues?.join(', ') ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      </Stack>
    </Container>
  );
}
