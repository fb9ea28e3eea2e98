import { Alert, Badge, Button, Card, Container, Group, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useEffect, useMemo, useRef, useState } from 'react';
import { PRESET_NAMES, type ImportFieldMatch, type ImportPreview, type ImportSummary, type PresetName } from '../../../shared/types.ts';
import { api, isDesktop } from '../api.ts';
import { errorMessage, useCall } from '../errors.tsx';
import { useJobs } from '../jobs/JobsContext.tsx';
import { ColumnMapping } from './ColumnMapping.tsx';
import { PathField } from './FolderPicker.tsx';
import { assign, mappingFromPreview, notReady, requestOf, type Mapping } from './importMapping.ts';
import { ProblemTable } from './ProblemTable.tsx';
import { count } from '../plural.ts';
import { UploadPanel } from './UploadPanel.tsx';

/**
 * Import: choose the folder and CSV, preview, map every column (to the id, label, patient, lesion, an existing or a
 * new field, or nothing) with the preview following each change, then import as a job. Import waits for a preview
 * of exactly the mapping shown.
 */
export function ImportScreen({ onImported }: { onImported(): void }) {
  const jobs = useJobs();
  const info = useCall(() => api['project.info']({}), []);
  const [imagesDir, setImagesDir] = useState('');
  const [metadataPath, setMetadataPath] = useState('');
  const [preset, setPreset] = useState<PresetName>('auto');
  const [mapping, setMapping] = useState<Mapping | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [previewed, setPreviewed] = useState<string | null>(null);
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const request = useMemo(() => requestOf({ imagesDir, metadataPath: metadataPath || undefined, preset }, mapping), [imagesDir, metadataPath, preset, mapping]);
  const key = JSON.stringify(request);
  const latest = useRef(key);
  /** Columns whose field match was proposed already: a proposal the user turned down is not made again. */
  const offered = useRef(new Map<string, ImportFieldMatch>());
  latest.current = key;

  const plan = async (req = request, first = false) => {
    setBusy(true);
    setError(null);
    setSummary(null);
    try {
      const p = await api['import.plan'](req);
      if (JSON.stringify(req) !== latest.current && !first) return;
      setPreview(p);
      if (first && p.header.length > 0) {
        setMapping(mappingFromPreview(p));
        offered.current = new Map(p.fieldMatches.map((f) => [f.column, f]));
        return;
      }
      // A match found once the id and label are chosen is proposed once, on a column still left as a new field.
      const fresh = p.fieldMatches.filter((f) => !offered.current.has(f.column) && mapping?.roles[f.column] === `field:${f.column}`);
      fresh.forEach((f) => offered.current.set(f.column, f));
      if (fresh.length > 0 && mapping) return setMapping(fresh.reduce((m, f) => assign(m, f.column, `field:${f.field}`), mapping));
      setPreviewed(JSON.stringify(req));
    } catch (err) {
      setError(errorMessage(err));
      setPreviewed(null);
    } finally {
      setBusy(false);
    }
  };
  // Every change of the mapping previews again: the problems and types shown are those of the mapping shown.
  useEffect(() => {
    if (mapping) void plan(request);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mapping]);
  const start = async () => {
    setError(null);
    try {
      const job = await jobs.run({ kind: 'import', ...request });
      if (job.kind === 'import' && job.status === 'done' && job.result) {
        setSummary(job.result);
        setPreview(null);
        setMapping(null);
        setPreviewed(null);
        onImported();
      } else if (job.status === 'failed') setError(job.error?.message ?? 'The import failed.');
      else if (job.status === 'cancelled') onImported();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const newSource = () => {
    setPreview(null);
    setMapping(null);
    setPreviewed(null);
  };
  /** A new folder or CSV: what was previewed and mapped belonged to the old one. */
  const source = (set: (v: string) => void, v: string) => {
    set(v);
    newSource();
  };
  const waiting = notReady(mapping, metadataPath !== '', preview) ?? (previewed !== key ? 'Preview the current choices first.' : null);
  const ls = preview?.labelSet;
  const labelColumn = mapping ? Object.entries(mapping.roles).find(([, r]) => r === 'label')?.[0] : undefined;
  return (
    <Container size="xl" py="md">
      <Stack>
        <Title order={2}>Import images</Title>
        <Card withBorder>
          <Stack gap="xs">
            <PathField
              kind="folder"
              label="Image folder"
              placeholder="/path/to/images"
              value={imagesDir}
              onChange={(v) => source(setImagesDir, v)}
              testId="images"
            />
            <Group align="end">
              <PathField
                kind="csv"
                label="Metadata CSV (optional)"
                placeholder="/path/to/metadata.csv"
                value={metadataPath}
                onChange={(v) => source(setMetadataPath, v)}
                testId="csv"
              />
              <Select
                w={160}
                label="Preset"
                data={[...PRESET_NAMES]}
                value={preset}
                onChange={(v) => {
                  setPreset((v ?? 'auto') as PresetName);
                  newSource();
                }}
                allowDeselect={false}
                data-testid="import-preset"
              />
            </Group>
            {!isDesktop && (
              <UploadPanel
                onUploaded={(dir, csv) => {
                  setImagesDir(dir);
                  setMetadataPath(csv ?? '');
                  newSource();
                }}
              />
            )}
            <Group>
              <Button onClick={() => void plan(request, mapping === null)} loading={busy} disabled={!imagesDir} data-testid="import-preview">
                Preview
              </Button>
              <Button onClick={() => void start()} disabled={!preview || waiting !== null || jobs.current?.status === 'running'} data-testid="import-start">
                {preview ? `Import ${preview.images} images` : 'Import'}
              </Button>
              {preview && waiting && (
                <Text size="sm" c="orange.9" data-testid="import-waiting">
                  {waiting}
                </Text>
              )}
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
                <Badge data-testid="plan-preset">{preview.preset ?? (preview.header.length > 0 ? 'none: map the columns below' : 'images only')}</Badge>
              </Group>
              <SimpleGrid cols={4}>
                <Text size="sm" data-testid="plan-images">
                  {count(preview.images, 'image')}
                </Text>
                <Text size="sm" data-testid="plan-matched">
                  {count(preview.rowsMatched, 'row')} matched
                </Text>
                <Text size="sm">{count(preview.rowsWithoutImage, 'row')} without an image (listed below)</Text>
                <Text size="sm">{count(preview.imagesWithoutRow, 'image')} without a row</Text>
              </SimpleGrid>
              {ls && mapping && (
                <Group align="end" gap="xs">
                  <Select
                    w={280}
                    label="Labels go to the label set"
                    data={[...new Set([...ls.existing, labelColumn ?? ls.name, ls.name])].map((n) => ({
                      value: n,
                      label: ls.existing.includes(n) ? `${n} (existing)` : `${n} (new)`,
                    }))}
                    value={ls.name}
                    onChange={(v) => v && setMapping({ ...mapping, labelSet: v })}
                    allowDeselect={false}
                    data-testid="plan-label-set"
                  />
                  <Text
                    size="sm"
                    pb={6}
                    c={(ls.isNew && ls.existing.length > 0) || (!ls.isNew && ls.newClasses.length > 0) ? 'orange.9' : undefined}
                    data-testid="plan-label-set-note"
                  >
                    {ls.isNew ? `A new label set “${ls.name}”` : `The existing label set “${ls.name}”`}: {ls.reason}.
                    {!ls.isNew &&
                      ls.newClasses.length > 0 &&
                      ` The import adds ${ls.newClasses.length === 1 ? 'the class' : 'the classes'} ${ls.newClasses.join(', ')} to it.`}
                  </Text>
                </Group>
              )}
              {mapping && (
                <ColumnMapping proposals={offered.current} preview={preview} fields={info.data?.fields ?? []} mapping={mapping} onChange={setMapping} />
              )}
              <ProblemTable problems={preview.problems} total={preview.problemCount} />
            </Stack>
          </Card>
        )}
        {summary && (
          <Alert color="green" data-testid="import-summary">
            Imported: {summary.imagesAdded} added, {summary.imagesUpdated} updated, {summary.imagesUnchanged} unchanged, {summary.imagesFailed} failed, in{' '}
            {summary.seconds.toFixed(1)} s{summary.label ? `; labels in “${summary.label}”` : ''}.
            {summary.errors.length > 0 && ` ${count(summary.errors.length, 'problem')}, listed below.`}
          </Alert>
        )}
        {/* The problems stay in view after the import, in the same table as before it. */}
        {summary && summary.errors.length > 0 && <ProblemTable problems={summary.errors} total={summary.errors.length} found="in the import" testId="import" />}
      </Stack>
    </Container>
  );
}
