import { useCallback, useEffect, useRef, useState } from 'react';
import type { BrowseCounts, ImageSummary } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { toRequest, type BrowseQuery } from './query.ts';

/** Pages of this many images are fetched as the grid scrolls to them. */
export const PAGE = 200;

/**
 * The grid's data: counts with the first page, items fetched page by page on demand (without counts: the hot path),
 * refreshed after edits.
 */
export function useImagePages(q: BrowseQuery) {
  const [counts, setCounts] = useState<BrowseCounts | null>(null);
  const [pages, setPages] = useState<Map<number, ImageSummary[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const loading = useRef(new Set<number>());
  const generation = useRef(0);

  const query = useCallback((offset: number, withCounts: boolean) => api['images.list'](toRequest(q, offset, PAGE, withCounts)), [q]);

  const reload = useCallback(() => {
    const gen = ++generation.current;
    loading.current.clear();
    query(0, true).then(
      (first) => {
        if (gen !== generation.current) return;
        setCounts(first.counts);
        setPages(new Map([[0, first.items]]));
        setError(null);
      },
      (err: Error) => setError(err.message),
    );
  }, [query]);

  useEffect(reload, [reload]);

  const ensure = useCallback(
    (index: number) => {
      const page = Math.floor(index / PAGE);
      if (pages.has(page) || loading.current.has(page)) return;
      loading.current.add(page);
      const gen = generation.current;
      void query(page * PAGE, false).then((r) => {
        if (gen === generation.current) setPages((old) => new Map(old).set(page, r.items));
      });
    },
    [pages, query],
  );

  const itemAt = useCallback((index: number): ImageSummary | undefined => pages.get(Math.floor(index / PAGE))?.[index % PAGE], [pages]);

  /** Updates one image in place after an edit (no refetch, no jump), and the counts in the background. */
  const patch = (item: ImageSummary) => {
    setPages((old) => {
      const next = new Map(old);
      for (const [k, list] of next) {
        const i = list.findIndex((x) => x.id === item.id);
        if (i >= 0)
          next.set(
            k,
            list.map((x, j) => (j === i ? item : x)),
          );
      }
      return next;
    });
    // Only the counts are wanted: one item, not a page.
    void api['images.list'](toRequest(q, 0, 1, true)).then((first) =>
      setCounts((c) => (first.counts && c ? { ...first.counts, total: c.total } : first.counts)),
    );
  };

  return { counts, itemAt, ensure, reload, patch, error };
}
