import { describe, expect, it } from 'vitest';
import { cellOf, colourKeys, confusionOption, mapOption, predictedLabels } from '../../src/renderer/src/results/chartOptions.ts';
import type { EmbeddingMap } from '../../src/shared/results.ts';

describe('chart options', () => {
  it('maps every heatmap cell back to the confusion cell it draws', () => {
    const classes = ['ACK', 'BCC', 'MEL'];
    const cm = [
      [5, 1, 0],
      [2, 7, 3],
      [0, 4, 9],
    ];
    const data = (confusionOption(cm, classes) as { series: { data: [number, number, number][] }[] }).series[0]!.data;
    for (const v of data) {
      const { trueClass, predictedClass } = cellOf(v, classes);
      expect(cm[classes.indexOf(trueClass)]![classes.indexOf(predictedClass)]).toBe(v[2]);
    }
    expect(data).toHaveLength(9);
  });

  it('colours the map by right/wrong, by a category, and by numeric bands with missing kept apart', () => {
    const map: EmbeddingMap = {
      backbone: 'k',
      points: Array.from({ length: 20 }, (_, i) => ({ imageId: i + 1, x: i, y: -i, label: i % 2 ? 'MEL' : 'NEV', predicted: 'MEL', correct: i % 2 === 1 })),
      fields: { age: Array.from({ length: 20 }, (_, i) => (i === 0 ? null : i * 3)), site: Array.from({ length: 20 }, (_, i) => (i < 10 ? 'back' : 'face')) },
    };
    expect(colourKeys(map, 'correct').filter((k) => k === 'wrong')).toHaveLength(10);
    expect(new Set(colourKeys(map, 'field:site'))).toEqual(new Set(['back', 'face']));
    const bands = colourKeys(map, 'field:age');
    expect(bands[0]).toBe('missing');
    expect(new Set(bands.slice(1)).size).toBe(5);
  });

  it('turns long predicted-class names under the confusion matrix so they do not run together, the title below them', () => {
    const x = (classes: string[]) =>
      confusionOption(
        [
          [1, 0],
          [0, 1],
        ],
        classes,
      ) as { xAxis: { nameGap: number; axisLabel: { rotate: number } }; grid: { bottom: number } };
    expect(x(['MEL', 'NEV']).xAxis.axisLabel.rotate).toBe(0);
    const long = x(['not BCC/MEL/SCC', 'BCC/MEL/SCC']);
    expect(long.xAxis.axisLabel.rotate).toBeGreaterThanOrEqual(30);
    // The rotated name drops about sin(angle) of its width: the axis title sits below it, inside the chart.
    expect(long.xAxis.nameGap).toBeGreaterThan('not BCC/MEL/SCC'.length * 7 * Math.sin(Math.PI / 6));
    expect(long.grid.bottom).toBeGreaterThan(long.xAxis.nameGap);
    expect(predictedLabels(['a'.repeat(200), 'b']).nameGap).toBeLessThan(100);
  });

  it("keeps the map's axis titles beside the plot, clear of the legend above it", () => {
    const map: EmbeddingMap = { backbone: 'k', points: [{ imageId: 1, x: -1, y: 1, label: 'MEL', predicted: 'MEL', correct: true }], fields: {} };
    const o = mapOption(map, 'label') as {
      legend: { top: number };
      yAxis: { nameLocation: string; axisLine: { onZero: boolean } };
      xAxis: { nameLocation: string };
    };
    expect(o.legend.top).toBe(0);
    expect(o.yAxis.nameLocation).toBe('middle');
    expect(o.yAxis.axisLine.onZero).toBe(false);
    expect(o.xAxis.nameLocation).toBe('middle');
  });

  it('escapes class names in the confusion tooltip (they come from the CSV)', () => {
    const classes = ['<img src=x onerror=alert(1)>', 'NEV'];
    const option = confusionOption(
      [
        [1, 0],
        [0, 1],
      ],
      classes,
    ) as { tooltip: { formatter(p: { value: [number, number, number] }): string } };
    const html = option.tooltip.formatter({ value: [0, 1, 1] });
    expect(html).toBe('true &#60;img src=x onerror=alert(1)&#62;, predicted &#60;img src=x onerror=alert(1)&#62;: 1');
    expect(html).not.toContain('<img');
  });
});
