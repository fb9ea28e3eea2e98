import type { EChartsCoreOption } from 'echarts/core';

/** A chart's ECharts option: built by pure functions, drawn by Chart. */
export type ChartOption = EChartsCoreOption;
