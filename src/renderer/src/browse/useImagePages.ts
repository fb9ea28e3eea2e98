import { useCallback, useEffect, useRef, useState } from 'react';
import type { ImageList, ImageSummary } from '../../../shared/types.ts';
import { api } from '../api.ts';

/** Pages of this many images are fetched as the grid scrolls to them. */
export const PAGE = 200;

export type LabelFilter = { kind: 'all' } | { kind: 'unlabelled' } | { kind: 'class'; name: string };

/** The grid's data: counts from the first page, items fetched page by page on demand, refreshed after edits. */
export function useImagePages(filter: LabelFilter, search: string) {
  const [head, setHead] = useState<ImageList | null>(null);
  const [pages, setPages] = useState<Map<number, ImageSummary[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const loading = useRef(new Set<number>());
  const generation = useRef(0);

  const query = useCallback(
    (offset: number) =>
      api['images.list']({ offset, limit: PAGE, search: search || undefined, label: filter.kind === 'all' ? undefined : filter.kind === 'unlabelled' ? null : filter.name }),
    [filter, search],
  );

  const reload = useCallback(() => {
    const gen = ++generation.current;
    loading.current.clear();
    query(0).then(
      (first) => {
        if (gen !== generation.current) return;
        setHead(first);
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
      void query(page * PAGE).then((r) => {
        if (gen === generation.current) setPages((old) => new Map(old).set(page, r.items));
      });
    },
    [pages, query],
  );

  const itemAt = (index: number): ImageSummary | undefined => pages.get(Math.floor(index / PAGE))?.[index % PAGE];

  /** Updates one image in place after an edit (no refetch, no jump), and the counts in the background. */
  const patch = (item: ImageSummary) => {
    setPages((old) => {
      const next = new Map(old);
      for (const [k, list] of next) {
        const i = list.findIndex((x) => x.id === item.id);
        if (i >= 0) next.set(k, list.map((x, j) => (j === i ? item : x)));
      }
      return next;
    });
    void query(0).then((first) => setHead((h) => (h ? { ...h, all: first.all, unlabelled: first.unlabelled, classes: first.classes } : first)));
  };

  return { head, itemAt, ensure, reload, patch, error };
}
