import { describe, expect, it } from 'vitest';
import { EMPTY_QUERY, toRequest, withFieldFilter } from '../../src/renderer/src/workbench/query.ts';
import { clickSelect, NO_SELECTION } from '../../src/renderer/src/workbench/selection.ts';
import { actualSizeScale, FIT, zoomAt } from '../../src/renderer/src/workbench/zoom.ts';
import { describeJob, formatSeconds } from '../../src/renderer/src/jobs/format.ts';

describe('grid selection', () => {
  const idAt = (i: number) => (i < 100 ? i + 1000 : undefined);
  it('selects one on click, toggles with Ctrl, extends a range with Shift from the anchor', () => {
    let s = clickSelect(NO_SELECTION, 5, 1005, { toggle: false, extend: false }, idAt);
    expect(s.ids).toEqual([1005]);
    s = clickSelect(s, 8, 1008, { toggle: true, extend: false }, idAt);
    expect(s.ids).toEqual([1005, 1008]);
    s = clickSelect(s, 5, 1005, { toggle: true, extend: false }, idAt);
    expect(s.ids).toEqual([1008]);
    // The anchor is the last image clicked (here the one just toggled off, as file managers do).
    s = clickSelect(s, 11, 1011, { toggle: false, extend: true }, idAt);
    expect(s.ids.sort()).toEqual([1005, 1006, 1007, 1008, 1009, 1010, 1011]);
    // Backwards from the same anchor; images not loaded yet are skipped rather than invented.
    expect(clickSelect({ ids: [], anchor: 101 }, 98, 1098, { toggle: false, extend: true }, idAt).ids.sort()).toEqual([1098, 1099]);
  });
});

describe('browse query', () => {
  it('drops empty filters, keeps one per field, and builds the request', () => {
    let q = withFieldFilter(EMPTY_QUERY, 'age', { kind: 'range', field: 'age', min: 30, max: null });
    q = withFieldFilter(q, 'sex', { kind: 'values', field: 'sex', values: [] });
    expect(Object.keys(q.fields)).toEqual(['age']);
    q = withFieldFilter(q, 'age', { kind: 'missing', field: 'age' });
    expect(toRequest({ ...q, label: { kind: 'unlabelled' } }, 200, 200, false)).toMatchObject({
      offset: 200,
      counts: false,
      label: null,
      filters: [{ kind: 'missing', field: 'age' }],
    });
    expect(Object.keys(withFieldFilter(q, 'age', { kind: 'range', field: 'age', min: null, max: null }).fields)).toEqual([]);
  });
});

describe('lesion view zoom', () => {
  it('keeps the point under the cursor fixed and never zooms out past fit', () => {
    const v = zoomAt(FIT, 2, 100, 50);
    // The image point under (100, 50) is (100 - x) / scale, before and after.
    expect((100 - v.x) / v.scale).toBeCloseTo(100);
    expect((50 - v.y) / v.scale).toBeCloseTo(50);
    expect(zoomAt(v, 0.1, 0, 0)).toEqual(FIT);
  });
  it('shows a 4000×3000 photo pixel for pixel in a 400×300 box at 10×', () => {
    expect(actualSizeScale({ w: 4000, h: 3000 }, { w: 400, h: 300 })).toBeCloseTo(10);
  });
  it('shows a photo smaller than the box at its true pixels, below fit, and passes back through fit on the way in', () => {
    const actual = actualSizeScale({ w: 200, h: 150 }, { w: 800, h: 600 });
    expect(actual).toBeCloseTo(0.25);
    // From fit, zooming out goes down to the true pixels and no further.
    let v = zoomAt(FIT, 0.8, 400, 300, actual);
    expect(v.scale).toBeCloseTo(0.8);
    for (let i = 0; i < 20; i++) v = zoomAt(v, 0.8, 400, 300, actual);
    expect(v.scale).toBeCloseTo(0.25);
    // About the box's centre the photo stays centred: its centre (400, 300) maps to itself.
    expect(400 * v.scale + v.x).toBeCloseTo(400);
    // Zooming in again lands on fit exactly on the way, not a hair beside it.
    for (let i = 0; i < 6; i++) v = zoomAt(v, 1.25, 400, 300, actual);
    expect(v.scale).toBeCloseTo(0.954);
    v = zoomAt(v, 1.25, 400, 300, actual);
    expect(v).toEqual(FIT);
  });
});

describe('job text', () => {
  it('says phase, count, percent and time left', () => {
    expect(formatSeconds(65)).toBe('1 min 05 s');
    const job = {
      id: 1,
      kind: 'import' as const,
      title: 'Import',
      status: 'running' as const,
      progress: { phase: 'thumbnails', done: 50, total: 200 },
      startedAt: '',
      finishedAt: null,
      etaSeconds: 30,
      elapsedSeconds: 10,
      result: null,
      error: null,
      version: 3,
    };
    expect(describeJob(job)).toBe('Import: thumbnails 50/200 (25%) · 30 s left');
    expect(describeJob({ ...job, etaSeconds: null })).toContain('estimating time left');
  });
});
