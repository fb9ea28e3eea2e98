import { Box, NavLink, Text } from '@mantine/core';
import { paletteColor } from '../../../shared/palette.ts';
import type { BrowseCounts } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { useCall } from '../errors.tsx';
import { viewOf, withClass, withView, type BrowseQuery, type BrowseView } from './query.ts';

const VIEW_LINKS: [BrowseView, string, string][] = [
  ['all', 'All', 'filter-all'],
  ['unlabelled', 'Unlabelled', 'filter-unlabelled'],
  ['labelNext', 'Label next (queue)', 'filter-label-next'],
  ['outliers', 'Outliers (last scan)', 'filter-outliers'],
  ['duplicates', 'Near-duplicates to review', 'filter-duplicates'],
];

/**
 * The sidebar's two kinds of choice, told apart: one view at a time (all, unlabelled, the labelling queue, the last
 * scan's outliers, near-duplicates still to review), then filters that narrow it, each shown as a chip above the grid.
 */
export function ViewLinks({ query, setQuery, counts }: { query: BrowseQuery; setQuery(q: BrowseQuery): void; counts: BrowseCounts | null }) {
  const view = viewOf(query);
  const numbers: Partial<Record<BrowseView, number>> = { all: counts?.all, unlabelled: counts?.unlabelled };
  return (
    <>
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt={4} id="browse-views">
        View
      </Text>
      <div role="radiogroup" aria-labelledby="browse-views">
        {VIEW_LINKS.map(([v, title, testId]) => (
          <NavLink
            key={v}
            role="radio"
            aria-checked={view === v}
            label={`${title}${numbers[v] !== undefined ? ` (${numbers[v]})` : ''}`}
            active={view === v}
            onClick={() => setQuery(withView(query, v))}
            data-testid={testId}
          />
        ))}
      </div>
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" mt="sm">
        Filter by label
      </Text>
      {counts?.classes.map((c, i) => {
        const on = query.label.kind === 'class' && query.label.name === c.name;
        return (
          <NavLink
            key={c.name}
            leftSection={<Box w={10} h={10} style={{ borderRadius: 5, background: c.color ?? paletteColor(i, c.name) }} />}
            label={`${c.hotkey ? `${c.hotkey} · ` : ''}${c.name} (${c.count})`}
            active={on}
            variant="light"
            aria-pressed={on}
            onClick={() => setQuery(withClass(query, on ? null : c.name))}
            data-testid={`filter-${c.name}`}
          />
        );
      })}
    </>
  );
}

/** Where the "label next" order comes from, so an annotator knows what it reflects. */
export function LabelNextNote() {
  const info = useCall(() => api['quality.labelNext']({}), []);
  return (
    <Text size="xs" c="dimmed" data-testid="label-next-note">
      {info.loading
        ? ''
        : info.data
          ? `ordered by ${info.data.strategy} from ${info.data.source} (${new Date(info.data.at).toLocaleString()})`
          : 'no order yet: train a model (or apply a bundle) first'}
    </Text>
  );
}
