// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ImageGrid } from '../../src/renderer/src/workbench/ImageGrid.tsx';
import { FilterPanel } from '../../src/renderer/src/workbench/FilterPanel.tsx';
import type { BrowseFacets, ImageSummary } from '../../src/shared/types.ts';
import { installDomShims, renderUi } from './setup.tsx';

beforeAll(installDomShims);
afterEach(cleanup);

const item = (i: number): ImageSummary => ({
  id: i + 1,
  externalId: `img${String(i).padStart(5, '0')}`,
  label: i % 3 === 0 ? 'mel' : null,
  unsure: false,
  suggestion: null,
});

describe('thumbnail grid', () => {
  it('puts only the rows in view in the DOM for 50,000 images, and asks for the pages it shows', () => {
    const ensure = vi.fn();
    renderUi(
      <ImageGrid
        total={50_000}
        itemAt={item}
        ensure={ensure}
        selected={0}
        marked={new Set()}
        colors={new Map([['mel', '#e03131']])}
        onSelect={() => {}}
        onColumns={() => {}}
      />,
    );
    const cells = screen.getByTestId('grid').querySelectorAll('img');
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.length).toBeLessThan(200);
    expect(Math.max(...ensure.mock.calls.map((c) => c[0] as number))).toBeLessThan(200);
    expect(screen.getByTestId('label-img00000').textContent).toBe('mel');
  });

  it('reports Ctrl+click as a toggle and Shift+click as an extension, and marks selected cells', () => {
    const onSelect = vi.fn();
    renderUi(
      <ImageGrid total={20} itemAt={item} ensure={() => {}} selected={0} marked={new Set([3])} colors={new Map()} onSelect={onSelect} onColumns={() => {}} />,
    );
    fireEvent.click(screen.getByTestId('cell-img00004'), { ctrlKey: true });
    fireEvent.click(screen.getByTestId('cell-img00006'), { shiftKey: true });
    expect(onSelect.mock.calls).toEqual([
      [4, { toggle: true, extend: false }],
      [6, { toggle: false, extend: true }],
    ]);
    expect(screen.getByTestId('cell-img00002').getAttribute('data-marked')).toBe('true');
  });
});

describe('filter panel', () => {
  const facets: BrowseFacets = {
    fields: [
      { name: 'age', displayName: null, type: 'number', unit: 'years', missing: 3, min: 5, max: 90, values: [] },
      {
        name: 'sex',
        displayName: null,
        type: 'category',
        unit: null,
        missing: 0,
        min: null,
        max: null,
        values: [
          { value: 'male', count: 4 },
          { value: 'female', count: 6 },
        ],
      },
    ],
    annotators: [{ name: 'Dr. Ana', count: 2 }],
  };

  it('turns a minimum age into a range filter and the missing box into a missing filter', () => {
    const onField = vi.fn();
    renderUi(<FilterPanel facets={facets} fields={{}} annotator={null} onField={onField} onAnnotator={() => {}} />);
    fireEvent.change(screen.getByTestId('filter-min-age'), { target: { value: '40' } });
    expect(onField).toHaveBeenLastCalledWith('age', { kind: 'range', field: 'age', min: 40, max: null });
    fireEvent.click(screen.getByTestId('filter-missing-sex'));
    expect(onField).toHaveBeenLastCalledWith('sex', { kind: 'missing', field: 'sex' });
    expect(screen.getByText('missing (3)')).toBeTruthy();
  });
});
