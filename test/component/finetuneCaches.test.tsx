// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/api.ts';
import type { ViewCacheInfo } from '../../src/shared/results.ts';
import { FinetuneCaches, type CacheCalls } from '../../src/renderer/src/results/FinetuneCaches.tsx';
import { installDomShims, renderUi } from './setup.tsx';

beforeAll(installDomShims);
afterEach(cleanup);

const cache = (name: string, part: Partial<ViewCacheInfo> = {}): ViewCacheInfo => ({
  name,
  backbone: 'mobilenet_v2_1.0_224_onnx',
  cut: '/features/features.13/Add_output_0',
  views: 8,
  augment: [],
  images: 686,
  bytes: 206_000_000,
  lastUsed: '2026-12-07T10:00:00.000Z',
  busy: false,
  ...part,
});

/** Calls answering from a list held here; `fail` makes the next removal fail as the server would. */
function fakeCalls(start: ViewCacheInfo[]): CacheCalls & { removed: string[]; fail: string | null } {
  let now = start;
  const calls = {
    removed: [] as string[],
    fail: null as string | null,
    list: async () => now,
    remove: async (name: string) => {
      if (calls.fail) throw new ApiError({ code: 'BUSY', message: calls.fail });
      calls.removed.push(name);
      now = now.filter((c) => c.name !== name);
      return now;
    },
  };
  return calls;
}

describe('the view caches under the fine-tuning options', () => {
  it('lists each cache with what it holds, its size and total, and says when there is none', async () => {
    renderUi(<FinetuneCaches calls={fakeCalls([cache('a'), cache('b', { views: 2, augment: ['crops'], images: 48, bytes: 3_500_000, busy: true })])} />);
    const rows = await screen.findAllByTestId('finetune-cache');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringMatching(/^mobilenet_v2_1\.0_224_onnx from \/features\/features\.13\/Add_output_0, 8 views: 686 images · 196\.5 MB · last used .*Remove$/),
      expect.stringMatching(/2 views \+ crops: 48 images · 3\.3 MB · last used .* · in useRemove$/),
    ]);
    expect(screen.getByTestId('finetune-caches').textContent).toContain('Cached views on disk: 2, 199.8 MB');
    // One a run is using cannot be removed.
    expect((screen.getAllByTestId('finetune-cache-remove')[1] as HTMLButtonElement).disabled).toBe(true);
    cleanup();
    renderUi(<FinetuneCaches calls={fakeCalls([])} />);
    expect((await screen.findByTestId('finetune-caches')).textContent).toMatch(/None yet\. The first fine-tuned run of a setting caches/);
  });

  it('removes one only after asking, naming the space freed; Keep leaves it', async () => {
    const calls = fakeCalls([cache('a'), cache('b')]);
    renderUi(<FinetuneCaches calls={calls} />);
    fireEvent.click((await screen.findAllByTestId('finetune-cache-remove'))[0]!);
    expect(screen.getByTestId('finetune-cache-confirm').textContent).toBe('Remove 196.5 MB');
    fireEvent.click(screen.getByText('Keep'));
    expect(screen.queryByTestId('finetune-cache-confirm')).toBeNull();
    expect(calls.removed).toEqual([]);
    fireEvent.click(screen.getAllByTestId('finetune-cache-remove')[1]!);
    fireEvent.click(screen.getByTestId('finetune-cache-confirm'));
    await waitFor(() => expect(screen.getAllByTestId('finetune-cache')).toHaveLength(1));
    expect(calls.removed).toEqual(['b']);
  });

  it('shows why a removal was refused, and reads the list again (a run may have taken the cache up since)', async () => {
    const calls = fakeCalls([cache('a')]);
    renderUi(<FinetuneCaches calls={calls} />);
    fireEvent.click(await screen.findByTestId('finetune-cache-remove'));
    calls.fail = 'The view cache a is in use by the fine-tuned run going on here; remove it when the run has finished or been cancelled.';
    const list = calls.list;
    calls.list = async () => (await list()).map((c) => ({ ...c, busy: true }));
    fireEvent.click(screen.getByTestId('finetune-cache-confirm'));
    expect((await screen.findByTestId('finetune-caches-error')).textContent).toBe(`Removing a failed: ${calls.fail}`);
    await waitFor(() => expect(screen.getByTestId('finetune-cache').textContent).toMatch(/ · in useRemove$/));
    expect((screen.getByTestId('finetune-cache-remove') as HTMLButtonElement).disabled).toBe(true);
  });

  it('says when the list cannot be read', async () => {
    renderUi(<FinetuneCaches calls={{ list: () => Promise.reject(new Error('FORBIDDEN: admins only')), remove: async () => [] }} />);
    expect((await screen.findByTestId('finetune-caches-error')).textContent).toBe('Listing the view caches failed: FORBIDDEN: admins only');
    expect(screen.queryAllByTestId('finetune-cache')).toEqual([]);
  });
});
