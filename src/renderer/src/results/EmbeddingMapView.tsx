import { Button, Group, Select, Stack, Text } from '@mantine/core';
import type { ECharts } from 'echarts/core';
import { useMemo, useRef, useState } from 'react';
import type { EmbeddingMap } from '../../../shared/results.ts';
import { api } from '../api.ts';
import { Chart } from '../charts/Chart.tsx';
import { mapOption, type ColorBy } from './chartOptions.ts';
import { CallError, useCall } from '../errors.tsx';

/** The 2-D map of the features, coloured by label, prediction, correctness or any field; lasso or click to open images. */
export function EmbeddingMapView({ runId, onOpen }: { runId: number; onOpen(ids: number[], title: string): void }) {
  const [by, setBy] = useState<ColorBy>('label');
  const [picked, setPicked] = useState<number[]>([]);
  const chart = useRef<ECharts | null>(null);
  const call = useCall(() => api['runs.map']({ runId }), [runId]);
  const map: EmbeddingMap | null = call.data;
  const option = useMemo(() => (map ? mapOption(map, by) : null), [map, by]);
  if (!map || !option) return call.error ? <CallError call={call} what="Reading the feature map" /> : <Text c="dimmed">Loading the map…</Text>;
  const series = (option as { series: { data: (readonly [number, number, number, number])[] }[] }).series;
  const brush = (type: 'lasso' | 'rect') =>
    chart.current?.dispatchAction({ type: 'takeGlobalCursor', key: 'brush', brushOption: { brushType: type, brushMode: 'single' } });
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Group gap="xs">
          <Select
            size="xs"
            w={200}
            label="Colour by"
            data={[
              { value: 'label', label: 'label' },
              { value: 'predicted', label: 'fused prediction' },
              { value: 'correct', label: 'right / wrong' },
              ...Object.keys(map.fields).map((f) => ({ value: `field:${f}`, label: f })),
            ]}
            value={by}
            onChange={(v) => setBy((v ?? 'label') as ColorBy)}
            allowDeselect={false}
            data-testid="map-colour"
          />
          <Button size="xs" variant="default" mt={22} onClick={() => brush('lasso')} data-testid="map-lasso">
            Lasso
          </Button>
          <Button size="xs" variant="default" mt={22} onClick={() => brush('rect')}>
            Box
          </Button>
        </Group>
        <Group gap="xs">
          <Text size="xs" data-testid="map-picked">
            {picked.length} images selected
          </Text>
          <Button size="xs" disabled={picked.length === 0} onClick={() => onOpen(picked, `${picked.length} images from the map`)} data-testid="map-open">
            Open in browser
          </Button>
        </Group>
      </Group>
      <Chart
        option={option}
        height={460}
        name={`run-${runId}-map`}
        testId="chart-map"
        onReady={(c) => (chart.current = c)}
        onClick={(p) => {
          const d = p.data as [number, number, number];
          if (Array.isArray(d)) onOpen([d[2]], `image ${d[2]} from the map`);
        }}
        onBrush={(sel) => setPicked(sel.flatMap((s) => s.dataIndex.map((i) => series[s.seriesIndex]!.data[i]![2])))}
      />
      <Text size="xs" c="dimmed">
        First two principal components of {map.backbone.slice(0, 16)}… features, {map.points.length} images.
      </Text>
    </Stack>
  );
}
