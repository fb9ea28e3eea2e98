import { Checkbox, Collapse, Group, NumberInput, Select, Stack, Switch, TextInput, UnstyledButton, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { FINETUNE_DEFAULTS } from '../../../shared/jobs.ts';
import { AUGMENTS, type Augment } from '../../../shared/results.ts';

/** The training form's fine-tuning choices; `on` false: a frozen run. */
export interface FinetuneChoice {
  on: boolean;
  from: string;
  views: 1 | 2 | 4 | 8;
  /** Random training views beside the flips and turns: none by default. */
  augment: Augment[];
  epochs: number;
}

const AUGMENT_NAMES: Record<Augment, string> = { crops: 'Random crops', jitter: 'Colour jitter' };

export const NO_FINETUNE: FinetuneChoice = { on: false, from: '', views: FINETUNE_DEFAULTS.views, augment: [], epochs: FINETUNE_DEFAULTS.epochs };

/** The request fields of a choice: none for a frozen run, and only what differs from the defaults otherwise. */
export function finetuneRequest(c: FinetuneChoice): { finetune?: true; finetuneFrom?: string; views?: 1 | 2 | 4 | 8; augment?: Augment[]; epochs?: number } {
  if (!c.on) return {};
  return {
    finetune: true,
    ...(c.from.trim() ? { finetuneFrom: c.from.trim() } : {}),
    ...(c.views !== FINETUNE_DEFAULTS.views ? { views: c.views } : {}),
    ...(c.augment.length > 0 ? { augment: AUGMENTS.filter((a) => c.augment.includes(a)) } : {}),
    ...(c.epochs !== FINETUNE_DEFAULTS.epochs ? { epochs: c.epochs } : {}),
  };
}

/** "Train the CNN too": a switch, and where training starts, views and epochs folded away under it. */
export function FinetuneOptions({
  value,
  onChange,
  features,
  below,
}: {
  value: FinetuneChoice;
  onChange(c: FinetuneChoice): void;
  features: number;
  /** Shown at the end of the folded options while they are open (the view caches on disk). */
  below?: ReactNode;
}) {
  const [advanced, setAdvanced] = useState(false);
  const one = features === 1;
  const set = (part: Partial<FinetuneChoice>) => onChange({ ...value, ...part });
  return (
    <Stack gap={4}>
      <Switch
        size="xs"
        label="Train the CNN too"
        description={
          one
            ? 'After the frozen run of this configuration (reused when there is one), trains the top of the network with the heads, on the same folds, and reports both side by side. Takes minutes to tens of minutes.'
            : 'Choose one set of features (an ONNX backbone) to fine-tune its network.'
        }
        disabled={!one}
        checked={value.on && one}
        onChange={(e) => set({ on: e.currentTarget.checked })}
        data-testid="train-finetune"
      />
      {value.on && one && (
        <>
          <UnstyledButton onClick={() => setAdvanced((a) => !a)} aria-expanded={advanced} data-testid="finetune-advanced">
            <Text size="xs" c="dimmed">
              {advanced ? '▾' : '▸'} Fine-tuning options: from {value.from.trim() || 'the last quarter'}, {value.views} views
              {value.augment.length > 0 ? ` + ${value.augment.join(' and ')}` : ''}, at most {value.epochs} epochs
            </Text>
          </UnstyledButton>
          <Collapse expanded={advanced}>
            <Stack gap="xs">
              <TextInput
                size="xs"
                label="Train from"
                description='A tensor or layer of the network (e.g. features.14), or "input" for the whole network; empty: its last quarter.'
                placeholder="the last quarter"
                value={value.from}
                onChange={(e) => set({ from: e.currentTarget.value })}
                data-testid="finetune-from"
              />
              <Select
                size="xs"
                label="Views per image"
                description="Flips and quarter turns, averaged at test time"
                data={['1', '2', '4', '8']}
                value={String(value.views)}
                onChange={(v) => set({ views: Number(v ?? FINETUNE_DEFAULTS.views) as FinetuneChoice['views'] })}
                allowDeselect={false}
                data-testid="finetune-views"
              />
              <Checkbox.Group
                size="xs"
                label="Random views to train on too"
                description="As many again as the flips and turns, drawn per image (never averaged at test time); caching takes twice as long"
                value={value.augment}
                onChange={(v) => set({ augment: AUGMENTS.filter((a) => v.includes(a)) })}
                data-testid="finetune-augment"
              >
                <Group gap="md" mt={4}>
                  {AUGMENTS.map((a) => (
                    <Checkbox key={a} size="xs" value={a} label={AUGMENT_NAMES[a]} data-testid={`finetune-augment-${a}`} />
                  ))}
                </Group>
              </Checkbox.Group>
              <NumberInput
                size="xs"
                label="Epochs at most"
                description="Early stopping on held-out patients"
                min={1}
                max={200}
                value={value.epochs}
                onChange={(v) => set({ epochs: Math.min(200, Math.max(1, Math.round(Number(v) || FINETUNE_DEFAULTS.epochs))) })}
                data-testid="finetune-epochs"
              />
              {advanced && below}
            </Stack>
          </Collapse>
        </>
      )}
    </Stack>
  );
}
