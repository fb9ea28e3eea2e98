import { Group, Select, Slider, Switch, Text } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import type { Explanation } from '../../../shared/explain.ts';
import { roleAtLeast } from '../../../shared/team.ts';
import { api } from '../api.ts';
import { errorMessage } from '../errors.tsx';
import { HeatCanvas } from './ExplainPanel.tsx';

/**
 * Where a run's fused model looked, over the lesion view: a run picker (newest first), a toggle and an opacity slider.
 * Offered to adjudicators and admins when the project has a finished run (model output per image is theirs to see).
 * Returns the controls and the overlay, which the zoomable image lays over the photo.
 */
export function useLesionExplain(imageId: number): { controls: ReactNode; overlay: ReactNode } {
  const [runs, setRuns] = useState<number[]>([]);
  const [runId, setRunId] = useState<number | null>(null);
  const [on, setOn] = useState(false);
  const [opacity, setOpacity] = useState(0.6);
  const [e, setE] = useState<Explanation | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api['team.me']({})
      .then(async (me) => (roleAtLeast(me.role, 'adjudicator') ? api['runs.list']({}) : []))
      .then(
        (list) => {
          const done = list.filter((r) => r.status === 'done').map((r) => r.runId);
          setRuns(done);
          setRunId((id) => id ?? done[0] ?? null);
        },
        // Model output is not for everyone: no control rather than an error.
        () => setRuns([]),
      );
  }, []);
  useEffect(() => {
    if (!on || runId === null) return;
    let live = true;
    setError(null);
    api['runs.explain']({ runId, imageId, mode: 'fused', occlusion: true }).then(
      (x) => live && setE(x),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [on, runId, imageId]);
  if (runs.length === 0) return { controls: null, overlay: null };
  const current = on && e && e.imageId === imageId && e.runId === runId ? e : null;
  const controls = (
    <Group gap="xs" wrap="nowrap" data-testid="lesion-explain">
      <Switch size="xs" label="Where it looked" checked={on} onChange={(x) => setOn(x.currentTarget.checked)} data-testid="lesion-heatmap-toggle" />
      <Select
        size="xs"
        w={90}
        data={runs.map((r) => ({ value: String(r), label: `run #${r}` }))}
        value={runId === null ? null : String(runId)}
        onChange={(v) => v && setRunId(Number(v))}
        allowDeselect={false}
        aria-label="run to explain"
      />
      <Slider size="xs" style={{ flex: 1 }} min={0.1} max={1} step={0.05} value={opacity} onChange={setOpacity} disabled={!on} />
      {current?.occlusion && (
        <Text size="xs" c="dimmed">
          P({current.className}) {current.occlusion.probability.toFixed(2)}
        </Text>
      )}
      {on && !current && !error && (
        <Text size="xs" c="dimmed">
          computing…
        </Text>
      )}
      {error && (
        <Text size="xs" c="red">
          {error}
        </Text>
      )}
    </Group>
  );
  return { controls, overlay: current?.occlusion ? <HeatCanvas map={current.occlusion} opacity={opacity} /> : null };
}
