import {
  MODES,
  type Band,
  type Curve,
  type EmbeddingMap,
  type Mode,
  type ModeFigures,
  type RunReportView,
  type SubgroupTable,
} from '../../../shared/results.ts';
import type { FieldValue } from '../../../shared/types.ts';
import type { ChartOption } from '../charts/option.ts';
import { isMalignantName, paletteColor } from '../../../shared/palette.ts';

/** The dashed reference diagonal: chance on a ROC plot, perfect calibration on a reliability plot. */
function diagonal(name: string) {
  return {
    name,
    type: 'line',
    showSymbol: false,
    color: '#adb5bd',
    lineStyle: { type: 'dashed' },
    data: [
      [0, 0],
      [1, 1],
    ],
  };
}

/** One colour per mode everywhere: image blue, metadata orange, fused green. */
export const MODE_COLORS: Record<Mode, string> = { image: '#1c7ed6', metadata: '#f08c00', fused: '#2f9e44' };
const PALETTE = ['#1c7ed6', '#e03131', '#2f9e44', '#f08c00', '#7048e8', '#0c8599', '#c2255c', '#5c940d', '#495057', '#e8590c'];
const f3 = (x: number) => x.toFixed(3);

const axes = (x: string, y: string) => ({
  xAxis: { type: 'value', name: x, nameLocation: 'middle', nameGap: 25, min: 0, max: 1 },
  yAxis: { type: 'value', name: y, nameLocation: 'middle', nameGap: 35, min: 0, max: 1 },
  grid: { left: 50, right: 15, top: 60, bottom: 40 },
  tooltip: { trigger: 'item' },
  legend: { top: 0 },
});

/**
 * One mode's curve, its 95% bootstrap band (a transparent base and the band's height stacked on it) and the run's
 * operating point as a diamond; all under the curve's name, so its legend entry shows and hides the three together.
 */
function curveWithBand(name: string, m: Mode, curve: Curve, band: Band, point: [number, number], pointText: string) {
  const stack = `band-${m}`;
  const ok = band.x.map((_, i) => Number.isFinite(band.lo[i]!) && Number.isFinite(band.hi[i]!));
  // The band's base (invisible) and its height stacked on it, filled.
  const layer = (y: (i: number) => number, fill: boolean) => ({
    name,
    type: 'line',
    stack,
    showSymbol: false,
    silent: true,
    tooltip: { show: false },
    lineStyle: { opacity: 0 },
    ...(fill ? { areaStyle: { opacity: 0.15 } } : {}),
    color: MODE_COLORS[m],
    data: band.x.map((x, i) => [x, ok[i] ? y(i) : null]),
  });
  return [
    { name, type: 'line', showSymbol: false, color: MODE_COLORS[m], z: 3, data: curve.x.map((x, i) => [x, curve.y[i]]) },
    layer((i) => band.lo[i]!, false),
    layer((i) => band.hi[i]! - band.lo[i]!, true),
    {
      name,
      type: 'scatter',
      symbol: 'diamond',
      symbolSize: 13,
      z: 4,
      color: MODE_COLORS[m],
      itemStyle: { borderColor: '#000', borderWidth: 1 },
      tooltip: { formatter: () => pointText },
      data: [point],
    },
  ];
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

/** ROC curves of the three modes with their AUC in the legend, bootstrap bands, operating points and the chance diagonal. */
export function rocOption(r: RunReportView): ChartOption {
  return {
    ...axes('false positive rate', 'true positive rate'),
    legend: { top: 0, data: MODES.map((m) => `${m} AUC ${f3(r.modes[m].auc.value)}`) },
    series: [
      ...MODES.flatMap((m) => {
        const o = r.modes[m].operating;
        return curveWithBand(
          `${m} AUC ${f3(r.modes[m].auc.value)}`,
          m,
          r.modes[m].roc,
          r.modes[m].rocBand,
          [o.fpr, o.tpr],
          `${m} operating point: sensitivity ${pct(o.tpr)}, false-positive rate ${pct(o.fpr)}`,
        );
      }),
      diagonal('chance'),
    ],
  };
}

export function prOption(r: RunReportView): ChartOption {
  return {
    ...axes(`recall (${r.curveClass})`, 'precision'),
    legend: { top: 0, data: [...MODES] },
    series: MODES.flatMap((m) => {
      const o = r.modes[m].operating;
      return curveWithBand(
        m,
        m,
        r.modes[m].pr,
        r.modes[m].prBand,
        [o.tpr, o.precision],
        `${m} operating point: recall ${pct(o.tpr)}, precision ${pct(o.precision)}`,
      );
    }),
  };
}

/** ROC curves of the three modes with their AUC in the legend, without bands (an external set's: one sample, no folds). */
export function plainRocOption(r: { modes: Record<Mode, Pick<ModeFigures, 'auc' | 'roc'>> }): ChartOption {
  const name = (m: Mode) => `${m} AUC ${f3(r.modes[m].auc.value)}`;
  const line = (m: Mode) => ({
    name: name(m),
    type: 'line',
    showSymbol: false,
    color: MODE_COLORS[m],
    data: r.modes[m].roc.x.map((x, i) => [x, r.modes[m].roc.y[i]]),
  });
  return { ...axes('false positive rate', 'true positive rate'), legend: { top: 0, data: MODES.map(name) }, series: [...MODES.map(line), diagonal('chance')] };
}

/** Reliability diagram: observed accuracy per confidence bin; the diagonal is perfect calibration. */
export function calibrationOption(r: { modes: Record<Mode, Pick<ModeFigures, 'calibrationError' | 'calibration'>> }): ChartOption {
  return {
    ...axes('predicted confidence', 'observed accuracy'),
    series: [
      ...MODES.map((m) => ({
        name: `${m} ECE ${f3(r.modes[m].calibrationError)}`,
        type: 'line',
        color: MODE_COLORS[m],
        data: r.modes[m].calibration.filter((b) => b.count > 0).map((b) => [b.confidence, b.accuracy, b.count]),
      })),
      diagonal('perfect'),
    ],
  };
}

/** Class names and field values come from users' CSVs: a tooltip is HTML, so they are escaped before they go in. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Average width of a character of the 12 px axis labels, in pixels: enough to tell whether names collide. */
const LABEL_CHAR_PX = 7;
/** The widest a rotated predicted-class name may run before it ends in "…" (the cell's tooltip names it whole). */
const LABEL_MAX_PX = 120;

/**
 * How the predicted classes under the confusion matrix are laid out: short names (up to 5 characters, "MEL", "not
 * MEL" is not) stand level; longer ones ("not BCC/MEL/SCC") would run into each other under columns of 70 px, so
 * they are turned 35° and the axis title moves down below them.
 */
export function predictedLabels(classes: string[]): { rotate: number; width: number; nameGap: number } {
  const longest = Math.min(LABEL_MAX_PX, LABEL_CHAR_PX * Math.max(0, ...classes.map((c) => c.length)));
  if (classes.every((c) => c.length <= 5)) return { rotate: 0, width: LABEL_MAX_PX, nameGap: 30 };
  const rotate = 35;
  const drop = Math.ceil(longest * Math.sin((rotate * Math.PI) / 180) + 12 * Math.cos((rotate * Math.PI) / 180));
  return { rotate, width: LABEL_MAX_PX, nameGap: drop + 16 };
}

/** Confusion matrix as a heatmap: rows true class, columns predicted; each cell is clickable. */
export function confusionOption(cm: number[][], classes: string[]): ChartOption {
  const x = predictedLabels(classes);
  const data: [number, number, number][] = [];
  cm.forEach((row, t) => row.forEach((n, p) => data.push([p, classes.length - 1 - t, n])));
  const max = Math.max(1, ...data.map((d) => d[2]));
  return {
    tooltip: {
      formatter: (p: { value: [number, number, number] }) =>
        `true ${escapeHtml(classes[classes.length - 1 - p.value[1]]!)}, predicted ${escapeHtml(classes[p.value[0]]!)}: ${p.value[2]}`,
    },
    grid: { left: 80, right: 20, top: 20, bottom: 20 + x.nameGap },
    xAxis: {
      type: 'category',
      data: classes,
      name: 'predicted',
      nameLocation: 'middle',
      nameGap: x.nameGap,
      axisLabel: { interval: 0, rotate: x.rotate, width: x.width, overflow: 'truncate' },
    },
    yAxis: { type: 'category', data: [...classes].reverse(), name: 'true', nameLocation: 'middle', nameGap: 60 },
    visualMap: { min: 0, max, show: false, inRange: { color: ['#f8f9fa', '#1c7ed6'] } },
    series: [{ type: 'heatmap', data, label: { show: true }, emphasis: { itemStyle: { borderColor: '#000', borderWidth: 1 } } }],
  };
}

/** The cell of a heatmap click, as class names. */
export function cellOf(value: [number, number, number], classes: string[]): { trueClass: string; predictedClass: string } {
  return { predictedClass: classes[value[0]]!, trueClass: classes[classes.length - 1 - value[1]]! };
}

/** Where each mode's row sits within a subgroup's band of the forest plot. */
const MODE_OFFSET: Record<Mode, number> = { image: -0.22, metadata: 0, fused: 0.22 };

/**
 * Forest plot of one field's subgroups: a row per subgroup (top to bottom), per mode the AUC as a point and its
 * patient-bootstrap 95% interval as a line; "too few" subgroups keep their row, empty.
 */
export function subgroupOption(r: { subgroups: SubgroupTable }, field: string): ChartOption {
  const rows = r.subgroups.rows.filter((s) => s.field === field);
  const labels = rows.map((s) => `${s.group} (n=${s.n}${s.tooFew ? ', too few' : ''})`);
  const series = MODES.flatMap((m) => {
    const y = (k: number) => k + MODE_OFFSET[m];
    const points = rows.flatMap((s, k) => (s.modes[m].auc ? [[s.modes[m].auc!.value, y(k), k]] : []));
    const bars = rows.flatMap((s, k) => (s.modes[m].auc ? [[s.modes[m].auc!.ci[0], y(k)], [s.modes[m].auc!.ci[1], y(k)], '-'] : []));
    return [
      { name: m, type: 'scatter', yAxisIndex: 1, color: MODE_COLORS[m], symbolSize: 8, data: points },
      {
        name: m,
        type: 'line',
        yAxisIndex: 1,
        color: MODE_COLORS[m],
        showSymbol: false,
        connectNulls: false,
        lineStyle: { width: 2 },
        tooltip: { show: false },
        data: bars,
      },
    ];
  });
  return {
    tooltip: {
      trigger: 'item',
      formatter: (p: { seriesName: string; data: [number, number, number] }) => {
        const s = rows[p.data[2]]!.modes[p.seriesName as Mode];
        return `${escapeHtml(field)} = ${escapeHtml(rows[p.data[2]]!.group)}<br>${p.seriesName}: AUC ${s.auc!.value.toFixed(3)} [${s.auc!.ci[0].toFixed(3)}, ${s.auc!.ci[1].toFixed(3)}]`;
      },
    },
    legend: { top: 0, data: [...MODES] },
    grid: { left: 170, right: 20, top: 35, bottom: 40 },
    xAxis: { type: 'value', min: 0, max: 1, name: 'ROC AUC (95% CI)', nameLocation: 'middle', nameGap: 25, axisLine: { onZero: false } },
    // Labels on a category axis; the data on a hidden value axis over the same bands, so modes sit side by side.
    yAxis: [
      { type: 'category', inverse: true, data: labels },
      { type: 'value', inverse: true, min: -0.5, max: rows.length - 0.5, show: false },
    ],
    series: [
      ...series,
      {
        type: 'line',
        yAxisIndex: 1,
        data: [],
        markLine: { silent: true, symbol: 'none', label: { show: false }, lineStyle: { type: 'dashed', color: '#adb5bd' }, data: [{ xAxis: 0.5 }] },
      },
    ],
  };
}

export type ColorBy = 'label' | 'predicted' | 'correct' | `field:${string}`;

/** A class on the map: warm when it is (or groups only) cancers, e.g. "BCC/MEL/SCC"; cool for "not …" and benign classes. */
function classKeyColour(name: string, k: number): string {
  const warm = !name.startsWith('not ') && name.split('/').every(isMalignantName);
  return paletteColor(k, warm ? name.split('/')[0] : '');
}

/** The colour key of each point: its label, prediction, correctness or a field's value (numbers in quintile bands). */
export function colourKeys(map: EmbeddingMap, by: ColorBy): string[] {
  if (by === 'label') return map.points.map((p) => p.label ?? 'none');
  if (by === 'predicted') return map.points.map((p) => p.predicted ?? 'none');
  if (by === 'correct') return map.points.map((p) => (p.correct === null ? 'none' : p.correct ? 'right' : 'wrong'));
  const values = map.fields[by.slice(6)] ?? [];
  const nums = values.filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  const distinct = new Set(values.map(String)).size;
  if (nums.length > 0 && distinct > 10) {
    const cuts = [0.2, 0.4, 0.6, 0.8].map((q) => nums[Math.floor(q * (nums.length - 1))]!);
    const band = (v: number) => {
      const k = cuts.filter((c) => v > c).length;
      return `${k === 0 ? nums[0] : cuts[k - 1]}–${k === 4 ? nums.at(-1) : cuts[k]}`;
    };
    return values.map((v: FieldValue) => (typeof v === 'number' ? band(v) : 'missing'));
  }
  return values.map((v) => (v === null ? 'missing' : String(v)));
}

/** The map: one scatter series per colour key (so the legend names them), lasso and box selection on. */
export function mapOption(map: EmbeddingMap, by: ColorBy): ChartOption {
  const keys = colourKeys(map, by);
  const groups = [...new Set(keys)].sort();
  return {
    tooltip: { trigger: 'item', formatter: (p: { data: [number, number, number] }) => `image ${p.data[2]}` },
    legend: { top: 0, type: 'scroll' },
    // The axes sit at the plot's edges with their titles beside them, not where 0 falls: a title at the top of an
    // axis crossing the middle ran into the legend.
    grid: { left: 55, right: 15, top: 35, bottom: 45 },
    xAxis: { type: 'value', name: 'PC 1', nameLocation: 'middle', nameGap: 25, scale: true, axisLine: { onZero: false } },
    yAxis: { type: 'value', name: 'PC 2', nameLocation: 'middle', nameGap: 35, scale: true, axisLine: { onZero: false } },
    brush: { toolbox: ['lasso', 'rect', 'clear'], xAxisIndex: 'all', throttleType: 'debounce', throttleDelay: 200 },
    toolbox: { show: false },
    series: groups.map((g, k) => ({
      name: g,
      type: 'scatter',
      symbolSize: 6,
      color: g === 'wrong' ? '#D55E00' : g === 'right' ? '#0072B2' : by === 'label' || by === 'predicted' ? classKeyColour(g, k) : PALETTE[k % PALETTE.length],
      data: map.points.map((p, i) => [p.x, p.y, p.imageId, i] as const).filter((_, i) => keys[i] === g),
    })),
  };
}
