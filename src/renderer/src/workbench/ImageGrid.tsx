import { Badge, Box, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import type { ImageSummary } from '../../../shared/types.ts';
import { mediaUrl } from '../media.ts';

const CELL = 132;

export interface GridProps {
  total: number;
  itemAt(i: number): ImageSummary | undefined;
  ensure(i: number): void;
  selected: number;
  /** Ids of a multi-selection (highlighted); the focused cell is `selected`. */
  marked: ReadonlySet<number>;
  colors: ReadonlyMap<string, string>;
  onSelect(i: number, mods: { toggle: boolean; extend: boolean }): void;
  onColumns(n: number): void;
  /** What an empty grid says (default: no image matches the filter). */
  empty?: string;
}

/** A virtualised thumbnail grid: only the rows in view (plus a margin) are in the DOM, so 50,000 images scroll smoothly. */
export function ImageGrid({ total, itemAt, ensure, selected, marked, colors, onSelect, onColumns, empty }: GridProps) {
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [size, setSize] = useState({ w: 800, h: 600 });
  const columns = Math.max(1, Math.floor(size.w / CELL));

  useEffect(() => {
    const el = box.current!;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => onColumns(columns), [columns, onColumns]);
  // Keep the selected image in view when the keyboard moves it.
  useEffect(() => {
    const el = box.current!;
    const top = Math.floor(selected / columns) * CELL;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + CELL > el.scrollTop + el.clientHeight) el.scrollTop = top + CELL - el.clientHeight;
  }, [selected, columns]);

  const firstRow = Math.max(0, Math.floor(scroll / CELL) - 2);
  const lastRow = Math.min(Math.ceil(total / columns), Math.ceil((scroll + size.h) / CELL) + 2);
  const cells = [];
  for (let r = firstRow; r < lastRow; r++) {
    for (let c = 0; c < columns; c++) {
      const i = r * columns + c;
      if (i >= total) break;
      ensure(i);
      const item = itemAt(i);
      cells.push(
        <Box
          key={i}
          data-testid={item ? `cell-${item.externalId}` : undefined}
          data-selected={i === selected || undefined}
          data-marked={(item && marked.has(item.id)) || undefined}
          onClick={(e) => onSelect(i, { toggle: e.ctrlKey || e.metaKey, extend: e.shiftKey })}
          style={{
            position: 'absolute',
            top: r * CELL,
            left: c * CELL,
            width: CELL - 6,
            height: CELL - 6,
            borderRadius: 6,
            overflow: 'hidden',
            cursor: 'pointer',
            outline:
              i === selected
                ? '3px solid var(--mantine-color-blue-6)'
                : item && marked.has(item.id)
                  ? '3px solid var(--mantine-color-orange-5)'
                  : '1px solid var(--mantine-color-gray-4)',
          }}
        >
          {item && <img src={mediaUrl('thumb', item.id)} alt={item.externalId} loading="lazy" style={{ width: '100%', height: '100%', objectFit: 'cover' }} />}
          {item && (
            <Badge
              size="xs"
              style={{ position: 'absolute', left: 4, bottom: 4, ...(item.unsure || (!item.label && item.suggestion) ? { background: '#ffffff' } : {}) }}
              data-class-chip={item.label ?? ''}
              color={item.label ? (colors.get(item.label) ?? 'blue') : item.suggestion ? 'grape' : 'gray'}
              variant={item.unsure || (!item.label && item.suggestion) ? 'outline' : 'filled'}
              data-testid={`label-${item.externalId}`}
            >
              {item.label ?? (item.suggestion ? `${item.suggestion.label}? ${Math.round(item.suggestion.probability * 100)}%` : 'unlabelled')}
              {item.unsure ? '?' : ''}
            </Badge>
          )}
        </Box>,
      );
    }
  }
  return (
    <Box
      ref={box}
      onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
      style={{ position: 'relative', overflowY: 'auto', height: '100%' }}
      data-testid="grid"
    >
      <div style={{ height: Math.ceil(total / columns) * CELL, position: 'relative' }}>{cells}</div>
      {total === 0 && (
        <Text c="dimmed" data-testid="grid-empty">
          {empty ?? 'No images match the filter.'}
        </Text>
      )}
    </Box>
  );
}
