import { Alert, Badge, Button, Card, Container, Group, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import { PRESET_NAMES, type ImportPreview, type ImportSummary, type PresetName } from '../../../shared/types.ts';
import { api, isDesktop } from '../api.ts';
import { useJobs } from '../jobs/JobsContext.tsx';

const message = (err: unknown) => (err instanceof ApiError ? err.message : String(err));

/** Import: choose the folder and CSV, see the detected preset, mapping, types and problems, then import as a job. */
export function ImportScreen({ onImported }: { onImported(): void }) {
  const jobs = useJobs();
  const [imagesDir, setImagesDir] = useState('');
  const [metadataPath, setMetadataPath] = useState('');
  const [preset, setPreset] = useState<PresetName>('auto');
  const [idColumn, setIdColumn] = useState('');
  const [labelColumn, setLabelColumn] = useState('');
  const [patientColumn, setPatientColumn] = useState('');
  const [lesionColumn, setLesionColumn] = useState('');
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const request = {
    imagesDir,
    metadataPath: metadataPath || undefined,
    preset,
    idColumn: idColumn || undefined,
    labelColumn: labelColumn || undefined,
    patientColumn: patientColumn || undefined,
    lesionColumn: lesionColumn || undefined,
  };

  const plan = async () => {
    setBusy(true);
    setError(null);
    setSummary(null);
    try {
      setPreview(await api['import.plan'](request));
    } catch (err) {
      setPreview(null);
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  const start = async () => {
    setError(null);
    try {
      const job = await jobs.run({ kind: 'import', ...request });
      if (job.kind === 'import' && job.status === 'done' && job.result) {
        setSummary(job.result);
        setPreview(null);
        onImported();
      } else if (job.status === 'failed') setError(job.error?.message ?? 'The import failed.');
      else if (job.status === 'cancelled') onImported();
    } catch (err) {
      setError(message(err));
    }
  };
  const pick = async (set: (v: string) => void) => {
    try {
      const chosen = await api['system.pickFolder']({ title: 'Image folder' });
      if (chosen) set(chosen);
    } catch (err) {
      setError(message(err));
    }
  };
  const edited = () => setPreview(null);
  const m = preview?.mapping;
  return (
    <Container size="lg" py="md">
      <Stack>
        <Title order={2}>Import images</Title>
        <Card withBorder>
          <Stack gap="xs">
            <Group align="end">
              <TextInput
                style={{ flex: 1 }}
                label="Image folder"
                placeholder="/path/to/images"
                value={imagesDir}
                onChange={(e) => {
                  setImagesDir(e.currentTarget.value);
                  edited();
                }}
                data-testid="import-images"
              />
              {isDesktop && (
                <Button variant="default" onClick={() => void pick(setImagesDir)}>
                  Choose…
                </Button>
              )}
            </Group>
            <TextInput
              label="Metadata CSV (optional)"
              placeholder="/path/to/metadata.csv"
              value={metadataPath}
              onChange={(e) => {
                setMetadataPath(e.currentTarget.value);
                edited();
              }}
              data-testid="import-csv"
            />
            <Group grow>
              <Select
                label="Preset"
                data={[...PRESET_NAMES]}
                value={preset}
                onChange={(v) => {
                  setPreset((v ?? 'auto') as PresetName);
                  edited();
                }}
                allowDeselect={false}
                data-testid="import-preset"
              />
              <TextInput
                label="Id column (generic)"
                value={idColumn}
                onChange={(e) => {
                  setIdColumn(e.currentTarget.value);
                  edited();
                }}
              />
              <TextInput
                label="Label column (generic)"
                value={labelColumn}
                onChange={(e) => {
                  setLabelColumn(e.currentTarget.value);
                  edited();
                }}
              />
              <TextInput
                label="Patient column"
                value={patientColumn}
                onChange={(e) => {
                  setPatientColumn(e.currentTarget.value);
                  edited();
                }}
              />
              <TextInput
                label="Lesion column"
                value={lesionColumn}
                onChange={(e) => {
                  setLesionColumn(e.currentTarget.value);
                  edited();
                }}
              />
            </Group>
            <Group>
              <Button onClick={() => void plan()} loading={busy} disabled={!imagesDir} data-testid="import-preview">
                Preview
              </Button>
              <Button onClick={() => void start()} disabled={!preview || jobs.current?.status === 'running'} data-testid="import-start">
                {preview ? `Import ${preview.images} images` : 'Import'}
              </Button>
            </Group>
          </Stack>
        </Card>
        {error && (
          <Alert color="red" data-testid="import-error">
            {error}
          </Alert>
        )}
        {preview && (
          <Card withBorder data-testid="import-plan">
            <Stack gap="xs">
              <Group>
                <Text fw={600}>Preset</Text>
                <Badge data-testid="plan-preset">{preview.preset ?? 'images only'}</Badge>
              </Group>
              <SimpleGrid cols={4}>
                <Text size="sm" data-testid="plan-images">
                  {preview.images} images
                </Text>
                <Text size="sm" data-testid="plan-matched">
                  {preview.rowsMatched} rows matched
                </Text>
                <Text size="sm">{preview.rowsWithoutImage} rows without image</Text>
                <Text size="sm">{preview.imagesWithoutRow} images without row</Text>
              </SimpleGrid>
              {m && (
                <Table fz="sm" data-testid="plan-mapping">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Column</Table.Th>
                      <Table.Th>Becomes</Table.Th>
                      <Table.Th>Type</Table.Th>
                      <Table.Th>Unit / values</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {[
                      ['image id', m.id],
                      ['label' + (m.labelSet ? ` (set “${m.labelSet}”)` : ''), m.label],
                      ['patient', m.patient],
                      ['lesion', m.lesion],
                    ].map(([role, col]) =>
                      col ? (
                        <Table.Tr key={role}>
                          <Table.Td>{col}</Table.Td>
                          <Table.Td>{role}</Table.Td>
                          <Table.Td />
                          <Table.Td />
                        </Table.Tr>
                      ) : null,
                    )}
                    {m.fields.map((f) => (
                      <Table.Tr key={f.name} data-testid={`plan-field-${f.name}`}>
                        <Table.Td>{f.name}</Table.Td>
                        <Table.Td>metadata field</Table.Td>
                        <Table.Td>{f.type}</Table.Td>
                        <Table.Td>{f.unit ?? f.allowedValues?.slice(0, 12).join(', ') ?? ''}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
              {!m && preview.header.length > 0 && (
                <Text size="sm" data-testid="plan-columns">
                  No preset fits these columns: choose the id, label, patient and lesion columns from {preview.header.join(', ')}.
                </Text>
              )}
              {Object.keys(preview.classes).length > 0 && (
                <Group gap={4}>
                  {Object.entries(preview.classes).map(([c, n]) => (
                    <Badge key={c} variant="light">
                      {c}: {n}
                    </Badge>
                  ))}
                </Group>
              )}
              <Text fw={600} data-testid="plan-problem-count">
                {preview.problemCount} problems found
              </Text>
              {preview.problems.map((p, i) => (
                <Text size="xs" c="orange" key={i}>
                  {p.source}: {p.message}
                </Text>
              ))}
            </Stack>
          </Card>
        )}
        {summary && (
          <Alert color="green" data-testid="import-summary">
            Imported: {summary.imagesAdded} added, {summary.imagesUpdated} updated, {summary.imagesUnchanged} unchanged, {summary.imagesFailed} failed, in{' '}
            {summary.seconds.toFixed(1)} s.
            {summary.errors.length > 0 && ` ${summary.errors.length} problems (first: ${summary.errors[0]!.source}: ${summary.errors[0]!.message}).`}
          </Alert>
        )}
      </Stack>
    </Container>
  );
}
