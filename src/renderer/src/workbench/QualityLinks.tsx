import { NavLink, Text } from '@mantine/core';
import { api } from '../api.ts';
import { useCall } from '../errors.tsx';
import type { BrowseQuery } from './query.ts';

/** The browser's data-quality views: the labelling queue, the last scan's outliers, near-duplicates still to review. */
export function QualityLinks({ query, setQuery }: { query: BrowseQuery; setQuery(q: BrowseQuery): void }) {
  return (
    <>
      <NavLink
        label="Label next (queue)"
        active={query.label.kind === 'unlabelled' && query.sort.by === 'labelNext'}
        onClick={() => setQuery({ ...query, label: { kind: 'unlabelled' }, sort: { by: 'labelNext', desc: false } })}
        data-testid="filter-label-next"
      />
      <NavLink
        label="Outliers (last scan)"
        active={query.quality === 'outliers'}
        onClick={() => setQuery({ ...query, quality: query.quality === 'outliers' ? null : 'outliers', sort: { by: 'outlier', desc: false } })}
        data-testid="filter-outliers"
      />
      <NavLink
        label="Near-duplicates to review"
        active={query.quality === 'duplicates'}
        onClick={() => setQuery({ ...query, quality: query.quality === 'duplicates' ? null : 'duplicates' })}
        data-testid="filter-duplicates"
      />
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
