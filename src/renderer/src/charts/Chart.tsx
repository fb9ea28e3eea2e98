import { Button, Group } from '@mantine/core';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import { BrushComponent, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  BrushComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
  SVGRenderer,
]);

import type { ChartOption } from './option.ts';
export type { ChartOption };

function download(name: string, href: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.click();
}

/** The option as an SVG document, rendered off screen by ECharts' SVG renderer at the chart's size. */
export function toSvg(option: ChartOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({ ...option, animation: false, backgroundColor: '#fff' });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

export interface ChartProps {
  option: ChartOption;
  height: number;
  /** File name (without extension) for PNG and SVG export. */
  name: string;
  onClick?(params: { data: unknown; seriesIndex: number; dataIndex: number; value: unknown }): void;
  /** Called with the indices (per series) of the points a lasso or box brush selected. */
  onBrush?(selected: { seriesIndex: number; dataIndex: number[] }[]): void;
  testId?: string;
  /** The live chart, for actions such as switching on the lasso. */
  onReady?(chart: echarts.ECharts): void;
}

/** A chart (Apache ECharts, canvas) with PNG and SVG export. */
export function Chart({ option, height, name, onClick, onBrush, testId, onReady }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const handlers = useRef({ onClick, onBrush, onReady });
  handlers.current = { onClick, onBrush, onReady };
  useEffect(() => {
    const c = echarts.init(box.current!, null, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p) => handlers.current.onClick?.(p as never));
    c.on('brushSelected', (p) =>
      handlers.current.onBrush?.((p as { batch: { selected: { seriesIndex: number; dataIndex: number[] }[] }[] }).batch[0]?.selected ?? []),
    );
    const ro = new ResizeObserver(() => c.resize());
    ro.observe(box.current!);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
    if (chart.current) handlers.current.onReady?.(chart.current);
  }, [option]);
  const exportPng = () => chart.current && download(`${name}.png`, chart.current.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#fff' }));
  const exportSvg = () => {
    const el = box.current!;
    download(`${name}.svg`, `data:image/svg+xml;charset=utf-8,${encodeURIComponent(toSvg(option, el.clientWidth, el.clientHeight))}`);
  };
  return (
    <div>
      <div ref={box} style={{ height, width: '100%' }} data-testid={testId} />
      <Group gap={4} justify="flex-end">
        <Button size="compact-xs" variant="subtle" onClick={exportPng} data-testid={testId ? `${testId}-png` : undefined}>
          PNG
        </Button>
        <Button size="compact-xs" variant="subtle" onClick={exportSvg} data-testid={testId ? `${testId}-svg` : undefined}>
          SVG
        </Button>
      </Group>
    </div>
  );
}
