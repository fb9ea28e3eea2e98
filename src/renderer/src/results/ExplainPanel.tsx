import { Button, Group, Slider, Stack, Switch, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { heatColour, occlusionBlocks, type Explanation, type OcclusionMap } from '../../../shared/explain.ts';
import type { Mode } from '../../../shared/results.ts';
import { api } from '../api.ts';
import { errorMessage } from '../errors.tsx';
import { mediaUrl } from '../media.ts';
import { useFieldName } from '../fieldNames.tsx';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

/** The occlusion map drawn at block resolution on a small canvas that the browser scales (smoothly) over the photo. */
export function HeatCanvas({ map, opacity }: { map: OcclusionMap; opacity: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const { blocks, max } = occlusionBlocks(map);
    const img = ctx.createImageData(blocks.length, blocks.length);
    blocks.flat().forEach((v, i) => {
      const t = Math.max(0, v) / max;
      img.data.set([...heatColour(t), Math.round(255 * (0.25 + 0.75 * t))], i * 4);
    });
    ctx.putImageData(img, 0, 0);
  }, [map]);
  const size = map.grid + 1;
  return (
    <canvas
      ref={ref}
      width={size}
      height={size}
      data-testid="heatmap-overlay"
      style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', opacity, pointerEvents: 'none' }}
    />
  );
}

/** From the base (the average patient) to the case: each push in log-odds, largest first, and where the probability lands. */
function Waterfall({ e }: { e: Explanation }) {
  const fieldName = useFieldName();
  const c = e.contributions!;
  const steps = [...c.contributions].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  if (Math.abs(c.interaction) > 5e-3) steps.push({ field: 'interaction', value: null, reference: null, contribution: c.interaction });
  const scale = Math.max(1e-9, ...steps.map((s) => Math.abs(s.contribution)));
  let running = c.baseLogit;
  return (
    <Stack gap={2} data-testid="waterfall">
      <Text size="xs" fw={600}>
        Why P({e.className}) = {c.probability.toFixed(2)}
      </Text>
      <Text size="xs" data-testid="waterfall-base">
        base {c.baseProbability.toFixed(2)} (the average patient)
      </Text>
      {steps.map((s) => {
        running += s.contribution;
        const w = Math.round((50 * Math.abs(s.contribution)) / scale);
        return (
          <Group
            key={s.field}
            gap={4}
            wrap="nowrap"
            data-testid={`waterfall-${s.field}`}
            title={s.reference === null ? undefined : `replaced by ${String(s.reference)}`}
          >
            {/* The name takes what the figures leave: they keep one line each, however narrow the panel. */}
            <Text size="xs" style={{ flex: 1, minWidth: 0, overflowWrap: 'anywhere' }}>
              {fieldName(s.field)}
              {s.value !== null && s.value !== undefined ? ` ${String(s.value)}` : ''}
            </Text>
            <div style={{ width: 50, flexShrink: 0, display: 'flex', justifyContent: s.contribution >= 0 ? 'flex-start' : 'flex-end' }}>
              <div style={{ width: w, height: 8, background: s.contribution >= 0 ? '#e03131' : '#1c7ed6', borderRadius: 2 }} />
            </div>
            <Text size="xs" w={40} style={{ flexShrink: 0, whiteSpace: 'nowrap' }}>
              {signed(s.contribution)}
            </Text>
            <Text size="xs" c="dimmed" style={{ flexShrink: 0, whiteSpace: 'nowrap' }} data-testid="waterfall-step-p">
              → {sigmoid(running).toFixed(2)}
            </Text>
          </Group>
        );
      })}
      <Text size="xs" c="dimmed" data-testid="waterfall-method">
        Log-odds; {c.method === 'exact' ? 'exact decomposition of a linear head' : `each block replaced by its training reference (${c.head} head)`}.
      </Text>
    </Stack>
  );
}

function download(name: string, base64: string): void {
  const a = document.createElement('a');
  a.href = `data:image/png;base64,${base64}`;
  a.download = name;
  a.click();
}

/**
 * A case's photo with its occlusion map (toggle, opacity, PNG export with a colour bar) and the waterfall of what
 * pushed the model from the base rate to its answer. The map is computed when first shown (then cached by main).
 */
export function ExplainPanel({
  runId,
  imageId,
  externalId,
  mode,
  height = 240,
  rowPrediction,
}: {
  runId: number;
  imageId: number;
  externalId: string;
  mode: Mode;
  height?: number;
  /** What the row beside the panel shows: the out-of-fold model's answer, from a model that never saw this image. */
  rowPrediction?: string | null;
}) {
  const [explanation, setExplanation] = useState<Explanation | null>(null);
  const [showMap, setShowMap] = useState(false);
  const [opacity, setOpacity] = useState(0.6);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const canMap = mode !== 'metadata';
  const wantMap = showMap && canMap;
  useEffect(() => {
    let live = true;
    setError(null);
    setBusy(wantMap);
    api['runs.explain']({ runId, imageId, mode, occlusion: wantMap })
      .then(
        (e) => live && setExplanation(e),
        (e: unknown) => live && setError(errorMessage(e)),
      )
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
  }, [runId, imageId, mode, wantMap]);
  const exportPng = async () => {
    try {
      const r = await api['runs.explainPng']({ runId, imageId, mode });
      download(r.fileName, r.pngBase64);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const current = explanation && explanation.imageId === imageId && explanation.mode === mode ? explanation : null;
  return (
    <Stack gap={6} data-testid="explain-panel">
      <div style={{ position: 'relative', display: 'inline-block', alignSelf: 'center', lineHeight: 0 }}>
        <img src={mediaUrl('image', imageId)} alt={externalId} style={{ display: 'block', maxWidth: '100%', maxHeight: height, borderRadius: 4 }} />
        {wantMap && current?.occlusion && <HeatCanvas map={current.occlusion} opacity={opacity} />}
      </div>
      {canMap && (
        <Group gap="xs" wrap="nowrap">
          <Switch size="xs" label="Where it looked" checked={showMap} onChange={(e) => setShowMap(e.currentTarget.checked)} data-testid="heatmap-toggle" />
          <Slider
            size="xs"
            style={{ flex: 1 }}
            min={0.1}
            max={1}
            step={0.05}
            value={opacity}
            onChange={setOpacity}
            disabled={!wantMap}
            label={(v) => `${Math.round(v * 100)}%`}
            data-testid="heatmap-opacity"
          />
          <Button size="compact-xs" variant="light" disabled={!wantMap || !current?.occlusion} onClick={() => void exportPng()} data-testid="heatmap-export">
            PNG
          </Button>
        </Group>
      )}
      {wantMap && busy && (
        <Text size="xs" c="dimmed">
          Hiding each of 64 patches in turn…
        </Text>
      )}
      {wantMap && current?.occlusion && (
        <Text size="xs" c="dimmed" data-testid="heatmap-legend">
          Red: hiding that part lowers P({current.className}) most (up to {(100 * Math.max(0, ...current.occlusion.cells.flat())).toFixed(1)} points).
        </Text>
      )}
      {error && (
        <Text size="xs" c="red" data-testid="explain-error">
          {error}
        </Text>
      )}
      {current?.contributions && <Waterfall e={current} />}
      {current && (
        <Text size="xs" c={rowPrediction && rowPrediction !== current.predicted ? 'orange.9' : 'dimmed'} data-testid="explain-model">
          Explains the run&apos;s final model, trained on every image (this one too): it says {current.predicted}.
          {rowPrediction &&
            rowPrediction !== current.predicted &&
            ` The row shows ${rowPrediction}: the out-of-fold model, which never saw this image, answered otherwise.`}
        </Text>
      )}
    </Stack>
  );
}
