import { paletteColor } from '../../../shared/palette.ts';
import { Alert, Box, Button, Group, ScrollArea, Select, Stack, Switch, Text, TextInput } from '@mantine/core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import { fieldLabel, type BrowseFacets, type ImageDetail } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { useWindowKeys } from '../keys.ts';
import { ApplyBundle } from './ApplyBundle.tsx';
import { BatchBar } from './BatchBar.tsx';
import { FilterPanel } from './FilterPanel.tsx';
import { ImageGrid } from './ImageGrid.tsx';
import { ImagePanel } from './ImagePanel.tsx';
import { LabelNextNote, ViewLinks } from './QualityLinks.tsx';
import { FilterChips } from './FilterChips.tsx';
import { droppedBy, EMPTY_QUERY, viewOf, withFieldFilter, type BrowseQuery, type BrowseView } from './query.ts';
import { clickSelect, NO_SELECTION, type Selection } from './selection.ts';
import { useImagePages } from './useImagePages.ts';

const errorText = (e: unknown) => (e instanceof ApiError ? e.message : String(e));
const NEXT_AFTER_LABEL = 'dermfuse.nextAfterLabel';

/** "Move to the next image after a label": the person's choice in the browser, kept in this browser. */
function useNextAfterLabel(): [boolean, (v: boolean) => void] {
  const [on, setOn] = useState(() => localStorage.getItem(NEXT_AFTER_LABEL) === 'yes');
  const set = (v: boolean) => {
    localStorage.setItem(NEXT_AFTER_LABEL, v ? 'yes' : 'no');
    setOn(v);
  };
  return [on, set];
}

/**
 * The annotator's workbench: filters, grid, lesion view. Keys: arrows move, number keys (or the label set's hotkeys)
 * set the class — on every selected image when several are selected — U toggles unsure, A accepts a model's
 * suggestion, Delete clears the label, Enter enlarges the image, Esc clears the selection, Ctrl/Cmd+Z undoes the
 * last edit. Every edit is saved at once.
 */
export function BrowseScreen({ initial }: { initial?: { ids: number[]; title: string } | null }) {
  const [query, setQuery] = useState<BrowseQuery>(() => (initial ? { ...EMPTY_QUERY, ids: initial.ids } : EMPTY_QUERY));
  /** A filter the last change of view took away, said once so nothing narrows or widens the grid unannounced. */
  const [dropped, setDropped] = useState<string | null>(null);
  const [idsTitle, setIdsTitle] = useState(initial?.title ?? null);
  const [selected, setSelected] = useState(0);
  const [selection, setSelection] = useState<Selection>(NO_SELECTION);
  const [columns, setColumns] = useState(1);
  const [detail, setDetail] = useState<ImageDetail | null>(null);
  /** An image opened from "same lesion / same patient" (may lie outside the filter); null: the focused cell. */
  const [opened, setOpened] = useState<number | null>(null);
  const [large, setLarge] = useState(false);
  const [facets, setFacets] = useState<BrowseFacets | null>(null);
  const [showFilters, setShowFilters] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  /** What the last Ctrl+Z took back, in words, until the next edit. */
  const [undone, setUndone] = useState<string | null>(null);
  const [nextAfterLabel, setNextAfterLabel] = useNextAfterLabel();
  const pages = useImagePages(query);
  const counts = pages.counts;
  const total = counts?.total ?? 0;
  const current = pages.itemAt(selected);
  const shownId = opened ?? current?.id;
  const colors = useMemo(() => new Map((counts?.classes ?? []).map((c, i) => [c.name, c.color ?? paletteColor(i, c.name)])), [counts]);
  const marked = useMemo(() => new Set(selection.ids), [selection]);

  const loadFacets = useCallback(() => api['images.facets']({}).then(setFacets, (e: unknown) => setError(errorText(e))), []);
  // Facets count every value of every field: asked for only when the filter panel opens, not on the way to the first thumbnails.
  useEffect(() => {
    if (showFilters) void loadFacets();
  }, [showFilters, loadFacets]);
  useEffect(() => {
    setSelected(0);
    setSelection(NO_SELECTION);
  }, [query]);
  useEffect(() => setOpened(null), [selected]);
  useEffect(() => {
    if (shownId === undefined) return setDetail(null);
    api['images.get']({ id: shownId }).then(setDetail, (e: unknown) => setError(errorText(e)));
  }, [shownId, refresh]);

  const applied = useCallback(
    (d: ImageDetail | null) => {
      if (!d) return;
      setDetail((old) => (old && old.id === d.id ? d : old));
      pages.patch({ id: d.id, externalId: d.externalId, label: d.label, unsure: d.unsure, suggestion: d.suggestion });
      setError(null);
    },
    [pages],
  );
  const run = (p: Promise<ImageDetail | null>) => p.then(applied, (e: unknown) => setError(errorText(e)));
  const afterBatch = () => {
    pages.reload();
    setRefresh((n) => n + 1);
    if (showFilters) void loadFacets();
  };
  const batch = (p: Promise<{ changed: number }>) => p.then(afterBatch, (e: unknown) => setError(errorText(e)));

  const setLabel = (name: string | null, unsure = false) => {
    setUndone(null);
    if (selection.ids.length > 1) return batch(api['labels.setMany']({ imageIds: selection.ids, className: name }));
    const id = detail?.id ?? current?.id;
    if (id === undefined) return;
    // A label given, the next image comes up when the person chose so (a number key then never relabels the same image).
    if (name !== null && nextAfterLabel && opened === null) setSelected((s) => Math.min(s + 1, Math.max(0, total - 1)));
    return run(api['labels.set']({ imageId: id, className: name, unsure }));
  };
  const undo = () =>
    api['edits.undo']({}).then(
      (r) => {
        setUndone(r.undone);
        if (r.images > 1) afterBatch();
        else applied(r.image);
      },
      (e: unknown) => setError(errorText(e)),
    );

  useWindowKeys((e) => {
    // Keys typed into a field stay there; a switch or checkbox just clicked does not keep the label keys.
    if ((e.target as HTMLElement).closest('input:not([type="checkbox"]):not([type="radio"]), textarea, [contenteditable], [role="listbox"]')) return;
    const move = (d: number) => {
      e.preventDefault();
      setSelected((s) => Math.min(Math.max(0, s + d), Math.max(0, total - 1)));
    };
    if (e.key === 'ArrowRight') return move(1);
    if (e.key === 'ArrowLeft') return move(-1);
    if (e.key === 'ArrowDown') return move(columns);
    if (e.key === 'ArrowUp') return move(-columns);
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      return void undo();
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') return setSelection(NO_SELECTION);
    if (e.key === 'Enter') return setLarge((l) => !l);
    if (e.key === 'Delete' || e.key === 'Backspace') return void setLabel(null);
    if (e.key.toLowerCase() === 'u' && detail) return void run(api['labels.set']({ imageId: detail.id, className: detail.label, unsure: !detail.unsure }));
    if (e.key.toLowerCase() === 'a' && detail?.suggestion) {
      const s = detail.suggestion;
      if (!counts?.classes.some((c) => c.name === s.label))
        return setError(`The suggestion "${s.label}" is not a class of this label set: set the label with its number key.`);
      return void setLabel(s.label);
    }
    const cls = counts?.classes.find((c) => c.hotkey !== null && c.hotkey.toLowerCase() === e.key.toLowerCase());
    if (cls) void setLabel(cls.name);
  });

  const select = (i: number, mods: { toggle: boolean; extend: boolean }) => {
    const item = pages.itemAt(i);
    setSelected(i);
    if (!item) return;
    setSelection((sel) => {
      // The focused image joins a multi-selection started with Ctrl+click, as in file managers.
      const base = mods.toggle && sel.ids.length === 0 && current ? { ids: [current.id], anchor: selected } : sel;
      return clickSelect(base, i, item.id, mods, (k) => pages.itemAt(k)?.id);
    });
  };
  const emptyText = useEmptyText(viewOf(query), total === 0 && counts !== null && counts !== undefined);
  const sortOptions = [
    { value: 'id', label: 'Image id' },
    { value: 'label', label: 'Label' },
    { value: 'annotated', label: 'Last labelled' },
    { value: 'labelNext', label: 'Label next' },
    { value: 'outlier', label: 'Most unusual' },
    ...(detail?.fields.map((f) => ({ value: f.name, label: fieldLabel(f) })) ?? []),
  ];
  return (
    <Group align="stretch" gap={0} wrap="nowrap" style={{ height: '100%' }}>
      <ScrollArea w={240} p="xs" style={{ borderRight: '1px solid var(--mantine-color-gray-3)' }}>
        <TextInput
          placeholder="Search id"
          value={query.search}
          onChange={(e) => setQuery({ ...query, search: e.currentTarget.value })}
          mb="xs"
          data-testid="search"
        />
        <ViewLinks
          query={query}
          setQuery={(q) => {
            setDropped(droppedBy(query, q));
            setQuery(q);
          }}
          counts={counts}
        />
        <Switch
          size="xs"
          mt="sm"
          label="Filter by metadata"
          checked={showFilters}
          onChange={(e) => setShowFilters(e.currentTarget.checked)}
          data-testid="show-filters"
        />
        {showFilters && facets && (
          <Box mt="xs">
            <FilterPanel
              facets={facets}
              fields={query.fields}
              annotator={query.annotator}
              onField={(field, f) => setQuery(withFieldFilter(query, field, f))}
              onAnnotator={(a) => setQuery({ ...query, annotator: a })}
            />
          </Box>
        )}
        <ApplyBundle onApplied={afterBatch} onError={setError} />
      </ScrollArea>
      <Stack gap={4} style={{ flex: 1, minWidth: 0 }} p="xs">
        {/* Wraps onto a second line when the enlarged lesion view leaves the grid narrow; each part keeps its words. */}
        <Group justify="space-between" wrap="wrap" gap="xs" style={{ rowGap: 4 }} data-testid="browse-header">
          <Group gap="xs">
            <Text size="sm" data-testid="counts">
              {total} of {counts?.all ?? 0} shown · {counts?.unlabelled ?? 0} unlabelled in the project
            </Text>
            {query.sort.by === 'labelNext' && <LabelNextNote />}
          </Group>
          <Switch
            size="xs"
            label="Next image after a label"
            checked={nextAfterLabel}
            onChange={(e) => setNextAfterLabel(e.currentTarget.checked)}
            styles={{ label: { whiteSpace: 'nowrap' } }}
            data-testid="next-after-label"
          />
          <Group gap={4} wrap="nowrap" style={{ flexShrink: 0 }}>
            <Select
              size="xs"
              w={150}
              data={sortOptions}
              value={query.sort.by}
              onChange={(v) => setQuery({ ...query, sort: { ...query.sort, by: v ?? 'id' } })}
              allowDeselect={false}
              aria-label="sort by"
              data-testid="sort-by"
            />
            <Button size="xs" variant="default" onClick={() => setQuery({ ...query, sort: { ...query.sort, desc: !query.sort.desc } })} data-testid="sort-dir">
              {query.sort.desc ? '↓ desc' : '↑ asc'}
            </Button>
          </Group>
        </Group>
        <FilterChips
          query={query}
          setQuery={(q) => {
            if (!q.ids) setIdsTitle(null);
            setQuery(q);
          }}
          idsTitle={idsTitle}
        />
        {dropped && (
          <Text size="xs" c="orange.9" data-testid="filter-dropped">
            {dropped}
          </Text>
        )}
        {undone && (
          <Text size="xs" c="dimmed" data-testid="undo-note">
            Undone: {undone}
          </Text>
        )}
        {selection.ids.length > 1 && counts && detail && (
          <BatchBar
            count={selection.ids.length}
            classes={counts.classes}
            fields={detail.fields}
            onLabel={(n) => void setLabel(n)}
            onField={(field, value) => void batch(api['fields.setMany']({ imageIds: selection.ids, field, value }))}
            onClear={() => setSelection(NO_SELECTION)}
          />
        )}
        {(error || pages.error) && (
          <Alert color="red" withCloseButton onClose={() => setError(null)} data-testid="browse-error">
            {error ?? pages.error}
          </Alert>
        )}
        <Box style={{ flex: 1, minHeight: 0 }}>
          <ImageGrid
            total={total}
            itemAt={pages.itemAt}
            ensure={pages.ensure}
            selected={selected}
            marked={marked}
            colors={colors}
            onSelect={select}
            onColumns={setColumns}
            empty={emptyText}
          />
        </Box>
      </Stack>
      <Box w={large ? '55vw' : 400} style={{ borderLeft: '1px solid var(--mantine-color-gray-3)', flexShrink: 0 }}>
        {detail && counts ? (
          <ImagePanel
            detail={detail}
            classes={counts.classes}
            large={large}
            onLabel={(n) => void setLabel(n)}
            onSaved={applied}
            onOpen={setOpened}
            onToggleLarge={() => setLarge((l) => !l)}
          />
        ) : (
          <Text p="md" c="dimmed">
            Select an image.
          </Text>
        )}
      </Box>
    </Group>
  );
}

/**
 * What an empty Outliers or Near-duplicates view says: before any data-quality scan there is nothing to list, and
 * "no images match the filter" would point at a filter that is not there.
 */
function useEmptyText(view: BrowseView, empty: boolean): string | undefined {
  const quality = view === 'outliers' || view === 'duplicates';
  const [scan, setScan] = useState<'none' | 'done' | 'unknown' | null>(null);
  useEffect(() => {
    if (!quality || !empty) return;
    let current = true;
    // Annotators may not read the scan's report: then the text names both possibilities.
    api['quality.duplicates']({}).then(
      (r) => current && setScan(r.scan ? 'done' : 'none'),
      () => current && setScan('unknown'),
    );
    return () => {
      current = false;
    };
  }, [quality, empty]);
  if (!quality || scan === null) return undefined;
  const what = view === 'outliers' ? 'outliers' : 'near-duplicates to review';
  if (scan === 'none') return `No data-quality scan has run yet, so there are no ${what}: open Data quality and press Scan.`;
  if (scan === 'done') return `No ${what} from the last data-quality scan match the filter.`;
  return `No ${what} to show: this view lists what the last data-quality scan found (Data quality → Scan).`;
}
