import { Alert, Box, Group, NavLink, ScrollArea, Stack, Text, TextInput } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import type { ImageDetail } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { ImageGrid } from './ImageGrid.tsx';
import { ApplyBundle } from './ApplyBundle.tsx';
import { ImagePanel } from './ImagePanel.tsx';
import { useImagePages, type LabelFilter } from './useImagePages.ts';

/**
 * The annotator's workbench: filter, grid, detail. Keys: arrows move, number keys set the class with that hotkey,
 * U toggles unsure, A accepts a model's suggestion, Delete clears the label, Ctrl/Cmd+Z undoes the last edit.
 * Every edit is saved at once.
 */
export function BrowseScreen() {
  const [filter, setFilter] = useState<LabelFilter>({ kind: 'all' });
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState(0);
  const [columns, setColumns] = useState(1);
  const [detail, setDetail] = useState<ImageDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Bumped when something outside the panel changed the selected image (a model's suggestions). */
  const [refresh, setRefresh] = useState(0);
  const pages = useImagePages(filter, search);
  const total = pages.head?.total ?? 0;
  const current = pages.itemAt(selected);

  useEffect(() => {
    setSelected(0);
  }, [filter, search]);
  useEffect(() => {
    if (!current) return setDetail(null);
    api['images.get']({ id: current.id }).then(setDetail, (e: Error) => setError(e.message));
  }, [current?.id, refresh]);

  const applied = useCallback(
    (d: ImageDetail | null) => {
      if (!d) return;
      setDetail((old) => (old && old.id === d.id ? d : old));
      pages.patch({ id: d.id, externalId: d.externalId, label: d.label, unsure: d.unsure, suggestion: d.suggestion });
      setError(null);
    },
    [pages],
  );
  const run = (p: Promise<ImageDetail | null>) => p.then(applied, (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));

  const setLabel = (name: string | null, unsure = false) => current && run(api['labels.set']({ imageId: current.id, className: name, unsure }));

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement).closest('input, textarea, [contenteditable]')) return;
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
        return void run(api['edits.undo']({}));
      }
      if (e.key === 'Delete' || e.key === 'Backspace') return void setLabel(null);
      if (e.key.toLowerCase() === 'u' && detail) return void setLabel(detail.label, !detail.unsure);
      if (e.key.toLowerCase() === 'a' && detail?.suggestion) {
        const s = detail.suggestion;
        if (!pages.head?.classes.some((c) => c.name === s.label)) return setError(`The suggestion "${s.label}" is not a class of this label set: set the label with its number key.`);
        return void setLabel(s.label);
      }
      const cls = pages.head?.classes.find((c) => c.hotkey === e.key);
      if (cls && !e.ctrlKey && !e.metaKey && !e.altKey) void setLabel(cls.name);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const head = pages.head;
  return (
    <Group align="stretch" gap={0} wrap="nowrap" style={{ height: 'calc(100vh - 60px)' }}>
      <ScrollArea w={220} p="xs" style={{ borderRight: '1px solid var(--mantine-color-gray-3)' }}>
        <TextInput placeholder="Search id" value={search} onChange={(e) => setSearch(e.currentTarget.value)} mb="xs" data-testid="search" />
        <NavLink label={`All (${head?.all ?? 0})`} active={filter.kind === 'all'} onClick={() => setFilter({ kind: 'all' })} data-testid="filter-all" />
        <NavLink label={`Unlabelled (${head?.unlabelled ?? 0})`} active={filter.kind === 'unlabelled'} onClick={() => setFilter({ kind: 'unlabelled' })} data-testid="filter-unlabelled" />
        {head?.classes.map((c) => (
          <NavLink key={c.name} label={`${c.hotkey ? `${c.hotkey} · ` : ''}${c.name} (${c.count})`} active={filter.kind === 'class' && filter.name === c.name} onClick={() => setFilter({ kind: 'class', name: c.name })} data-testid={`filter-${c.name}`} />
        ))}
        <ApplyBundle
          onApplied={() => {
            pages.reload();
            setRefresh((n) => n + 1);
          }}
          onError={setError}
        />
      </ScrollArea>
      <Stack gap={4} style={{ flex: 1, minWidth: 0 }} p="xs">
        <Text size="sm" data-testid="counts">
          {total} of {head?.all ?? 0} shown, {head?.unlabelled ?? 0} unlabelled
        </Text>
        {(error || pages.error) && (
          <Alert color="red" withCloseButton onClose={() => setError(null)} data-testid="browse-error">
            {error ?? pages.error}
          </Alert>
        )}
        <Box style={{ flex: 1, minHeight: 0 }}>
          <ImageGrid total={total} itemAt={pages.itemAt} ensure={pages.ensure} selected={selected} onSelect={setSelected} onColumns={setColumns} />
        </Box>
      </Stack>
      <Box w={380} style={{ borderLeft: '1px solid var(--mantine-color-gray-3)' }}>
        {detail && head ? <ImagePanel detail={detail} classes={head.classes} onLabel={(n) => void setLabel(n)} onSaved={applied} /> : <Text p="md" c="dimmed">Select an image.</Text>}
      </Box>
    </Group>
  );
}
