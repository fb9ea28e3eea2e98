import { Alert, Autocomplete, Button, Card, Group, MultiSelect, NumberInput, Select, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import { GROUP_BY, TRAIN_DEFAULTS, type ConsensusRule, type DuplicateMergeMode, type GroupBy, type RuntimeName } from '../../../shared/jobs.ts';
import { api, isDesktop } from '../api.ts';
import { CallError, useCall, useShowError } from '../errors.tsx';
import { useJobs } from '../jobs/JobsContext.tsx';
import type { LabelSetInfo, ProjectInfo } from './types.ts';
import { FinetuneOptions, finetuneRequest, NO_FINETUNE, type FinetuneChoice } from './FinetuneOptions.tsx';
import { FinetuneCaches, type CacheCalls } from './FinetuneCaches.tsx';
import { fieldLabel } from '../../../shared/types.ts';
import { isFinetunedBackbone } from '../../../shared/backbone.ts';

const CACHE_CALLS: CacheCalls = { list: () => api['finetune.caches']({}), remove: (name) => api['finetune.removeCache']({ name }) };

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

/** Feature extraction and a new training run, both as jobs. */
export function NewRun({ info, onDone }: { info: ProjectInfo; onDone(runId: number | null): void }) {
  const jobs = useJobs();
  const [labelSet, setLabelSet] = useState<LabelSetInfo | null>(null);
  const [features, setFeatures] = useState<{ key: string; name: string; dim: number; count: number }[]>([]);
  const [target, setTarget] = useState<string | null>(null);
  const [fields, setFields] = useState<string[]>([]);
  /** Feature sets to train on: one, or several fused in one run (each reduced apart). */
  const [backbones, setBackbones] = useState<string[]>([]);
  const [folds, setFolds] = useState<number>(5);
  const [group, setGroup] = useState<GroupBy>('patient');
  const [seed, setSeed] = useState<number>(1);
  const [consensus, setConsensus] = useState<ConsensusRule>('latest');
  const [duplicates, setDuplicates] = useState<DuplicateMergeMode>(TRAIN_DEFAULTS.duplicates);
  const [extractRef, setExtractRef] = useState('default');
  const [runtime, setRuntime] = useState<RuntimeName | 'auto'>('auto');
  const [finetune, setFinetune] = useState<FinetuneChoice>(NO_FINETUNE);
  const catalogue = useCall(() => api['features.catalogue']({}), []);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const showError = useShowError();
  const loadFeatures = useCallback(
    () =>
      api['features.list']({}).then(
        (f) => {
          // A fine-tuned network's features have seen the labels: no run trains on them (they are its run's backbone).
          const usable = f.filter((x) => !isFinetunedBackbone(x.name));
          setFeatures(usable);
          setBackbones((b) => (b.length > 0 ? b : usable[0] ? [usable[0].key] : []));
        },
        (err: unknown) => showError('Listing the image features', err),
      ),
    [showError],
  );
  useEffect(() => {
    api['labelSets.get']({}).then(setLabelSet, (err: unknown) => showError('Reading the label set', err));
    void loadFeatures();
  }, [loadFeatures, showError]);
  const busy = jobs.current?.status === 'running';
  const train = async () => {
    if (!labelSet) return;
    setError(null);
    try {
      const job = await jobs.run({
        kind: 'train',
        label: labelSet.name,
        target: target ?? undefined,
        fields,
        folds,
        group,
        backbone: backbones.length > 0 ? backbones.join(',') : undefined,
        seed,
        consensus,
        duplicates,
        ...(backbones.length === 1 ? finetuneRequest(finetune) : {}),
      });
      if (job.status === 'failed') setError(job.error?.message ?? 'Training failed.');
      onDone(job.kind === 'train' && job.status === 'done' && job.result ? job.result.runId : null);
    } catch (e) {
      setError(message(e));
    }
  };
  const extract = async () => {
    setError(null);
    try {
      const job = await jobs.run({ kind: 'extract', backbone: extractRef, runtime: runtime === 'auto' ? undefined : runtime });
      if (job.status === 'failed') setError(job.error?.message ?? 'Extraction failed.');
      if (job.kind === 'extract' && job.status === 'done' && job.result) {
        const r = job.result;
        const on = r.runtime ? ` on ${r.runtime.detail}${r.runtime.notes.length ? ` (${r.runtime.notes.join('; ')})` : ''}` : '';
        setNote(`${r.extracted} images embedded (${r.cached} cached, ${r.failed} failed), ${r.dim}-d, ${r.imagesPerSecond.toFixed(1)} img/s${on}.`);
        void loadFeatures();
      }
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <Card withBorder>
      <Stack gap="xs">
        <Title order={5}>Image features</Title>
        <CallError call={catalogue} what="Listing the backbone catalogue" />
        <Autocomplete
          size="xs"
          label="Backbone"
          description={
            isDesktop
              ? 'A catalogue id (listed), a model folder, an .onnx file or a URL.'
              : 'A catalogue id (listed), or a model folder or .onnx file inside the project or a --data folder; this server takes no URLs.'
          }
          placeholder="default"
          value={extractRef}
          onChange={setExtractRef}
          data={catalogue.data?.map((c) => c.id) ?? []}
          renderOption={({ option }) => {
            const c = catalogue.data?.find((x) => x.id === option.value);
            return (
              <Stack gap={0} data-testid="catalogue-option">
                <Text size="xs" fw={600}>
                  {option.value}
                </Text>
                {c && (
                  <Text size="xs" c="dimmed">
                    {c.description} · {c.dim}-d · {c.licence} · {c.builtIn ? 'built in, offline' : `download${c.sizeMB ? ` ${c.sizeMB} MB` : ''}`}
                  </Text>
                )}
              </Stack>
            );
          }}
          data-testid="extract-backbone"
        />
        <Group align="end" gap="xs">
          <Select
            size="xs"
            style={{ flex: 1 }}
            label="Runtime"
            data={[
              { value: 'auto', label: 'Fastest here' },
              { value: 'onnx', label: 'ONNX Runtime' },
              { value: 'tfjs', label: 'TensorFlow.js' },
            ]}
            value={runtime}
            onChange={(v) => setRuntime((v as RuntimeName | 'auto' | null) ?? 'auto')}
            allowDeselect={false}
            data-testid="extract-runtime"
          />
          <Button size="xs" disabled={!extractRef || busy} onClick={() => void extract()} data-testid="extract-start">
            Extract
          </Button>
        </Group>
        {note && (
          <Text size="xs" c="dimmed" data-testid="extract-note">
            {note}
          </Text>
        )}
        <Title order={5}>New run</Title>
        <MultiSelect
          size="xs"
          label="Features (several: fused in one run, each reduced apart)"
          data={features.map((f) => ({ value: f.key, label: `${f.name} (${f.dim}-d, ${f.count} images)` }))}
          value={backbones}
          onChange={setBackbones}
          data-testid="train-backbone"
        />
        <Select
          size="xs"
          label={`Target (label set “${labelSet?.name ?? '…'}”)`}
          placeholder="every class"
          description={
            labelSet && labelSet.targets.length === 0
              ? 'Trains on every class. For yes/no (e.g. cancer vs the rest), first make a derived target in Labels & fields.'
              : undefined
          }
          clearable
          data={labelSet?.targets.map((t) => ({ value: t.name, label: `${t.name} = ${t.classes.join(', ')}` })) ?? []}
          value={target}
          onChange={setTarget}
          data-testid="train-target"
        />
        <MultiSelect
          size="xs"
          label="Metadata fields"
          placeholder="all but free text and leakage"
          data={info.fields.map((f) => ({ value: f.name, label: fieldLabel(f) }))}
          value={fields}
          onChange={setFields}
          data-testid="train-fields"
        />
        <Group grow gap="xs">
          <NumberInput size="xs" label="Folds" min={2} max={20} value={folds} onChange={(v) => setFolds(Number(v) || 5)} />
          <Select
            size="xs"
            label="Group by"
            data={[...GROUP_BY]}
            value={group}
            onChange={(v) => setGroup((v ?? 'patient') as typeof group)}
            allowDeselect={false}
          />
          <NumberInput size="xs" label="Seed" min={1} value={seed} onChange={(v) => setSeed(Number(v) || 1)} />
        </Group>
        {/* One above the other: their labels and choices are long, and side by side they were cut at 1280 px. */}
        <Stack gap="xs">
          <Select
            size="xs"
            label="Label of an image several annotators labelled"
            data={[
              { value: 'latest', label: 'The latest label' },
              { value: 'adjudicated', label: "The adjudicator's decision, else the majority" },
              { value: 'majority', label: 'Majority of the annotators' },
              { value: 'dawid-skene', label: 'Dawid-Skene consensus' },
            ]}
            value={consensus}
            onChange={(v) => setConsensus((v ?? 'latest') as ConsensusRule)}
            allowDeselect={false}
            data-testid="train-consensus"
          />
          <Select
            size="xs"
            label="Keep near-duplicates in one fold"
            data={[
              { value: 'unreviewed', label: 'Confirmed and unreviewed' },
              { value: 'confirmed', label: 'Confirmed only' },
              { value: 'none', label: 'No (byte-identical only)' },
            ]}
            value={duplicates}
            onChange={(v) => setDuplicates((v ?? TRAIN_DEFAULTS.duplicates) as DuplicateMergeMode)}
            allowDeselect={false}
            data-testid="train-duplicates"
          />
        </Stack>
        <FinetuneOptions value={finetune} onChange={setFinetune} features={backbones.length} below={<FinetuneCaches calls={CACHE_CALLS} />} />
        <Button size="xs" disabled={!labelSet || features.length === 0 || busy} onClick={() => void train()} data-testid="train-start">
          {finetune.on && backbones.length === 1 ? 'Train frozen, then fine-tuned' : 'Train image-only, metadata-only and fused'}
        </Button>
        {error && (
          <Alert color="red" data-testid="train-error">
            {error}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

/** Runs with configuration and headline AUCs; tick two to compare. */
