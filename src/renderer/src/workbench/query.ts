import type { RequestOf } from '../../../shared/api.ts';
import type { FieldFilter } from '../../../shared/types.ts';
import type { QualityFilter } from '../../../shared/quality.ts';

export type LabelFilter = { kind: 'all' } | { kind: 'unlabelled' } | { kind: 'class'; name: string };

/** Everything the browser filters and sorts by: one value, so a change re-queries once. */
export interface BrowseQuery {
  label: LabelFilter;
  search: string;
  annotator: string | null;
  /** At most one filter per field. */
  fields: Record<string, FieldFilter>;
  sort: { by: string; desc: boolean };
  /** Only these images (from the results screens); null: no such restriction. */
  ids: number[] | null;
  /** Only the last scan's outliers, or images in unconfirmed near-duplicate groups; null: no such restriction. */
  quality: QualityFilter | null;
}

export const EMPTY_QUERY: BrowseQuery = {
  label: { kind: 'all' },
  search: '',
  annotator: null,
  fields: {},
  sort: { by: 'id', desc: false },
  ids: null,
  quality: null,
};

/** What the browser shows, one at a time: the views of the sidebar. Filters (class, fields, search…) narrow any of them. */
export const VIEWS = ['all', 'unlabelled', 'labelNext', 'outliers', 'duplicates'] as const;
export type BrowseView = (typeof VIEWS)[number];

export function viewOf(q: BrowseQuery): BrowseView {
  if (q.quality === 'outliers') return 'outliers';
  if (q.quality === 'duplicates') return 'duplicates';
  if (q.label.kind === 'unlabelled') return q.sort.by === 'labelNext' ? 'labelNext' : 'unlabelled';
  return 'all';
}

/** Switches the view, keeping every filter (a class filter gives way to the unlabelled views, which it would empty). */
export function withView(q: BrowseQuery, view: BrowseView): BrowseQuery {
  const ordered = q.sort.by === 'labelNext' || q.sort.by === 'outlier';
  const base: BrowseQuery = { ...q, quality: null, label: q.label.kind === 'class' ? q.label : { kind: 'all' }, sort: ordered ? EMPTY_QUERY.sort : q.sort };
  switch (view) {
    case 'all':
      return base;
    case 'unlabelled':
      return { ...base, label: { kind: 'unlabelled' } };
    case 'labelNext':
      return { ...base, label: { kind: 'unlabelled' }, sort: { by: 'labelNext', desc: false } };
    case 'outliers':
      return { ...base, quality: 'outliers', sort: { by: 'outlier', desc: false } };
    case 'duplicates':
      return { ...base, quality: 'duplicates' };
    default: {
      const never: never = view;
      return never;
    }
  }
}

/** Filters to one class (null: any class); an unlabelled view gives way to "All". */
export function withClass(q: BrowseQuery, name: string | null): BrowseQuery {
  const view = viewOf(q);
  const from = view === 'unlabelled' || view === 'labelNext' ? withView(q, 'all') : q;
  return { ...from, label: name === null ? { kind: 'all' } : { kind: 'class', name } };
}

/** What a change of view or class took away that the person did not remove themselves, in a sentence (null: nothing). */
export function droppedBy(before: BrowseQuery, after: BrowseQuery): string | null {
  if (before.label.kind === 'class' && after.label.kind === 'unlabelled')
    return `The class filter “${before.label.name}” was removed: unlabelled images have no class yet.`;
  const was = viewOf(before);
  if ((was === 'unlabelled' || was === 'labelNext') && after.label.kind === 'class')
    return `Showing all images of “${after.label.name}”: the ${was === 'labelNext' ? 'Label next' : 'Unlabelled'} view has no classes.`;
  return null;
}

/** The query with every filter removed and the view kept. */
export function withoutFilters(q: BrowseQuery): BrowseQuery {
  return { ...q, search: '', annotator: null, fields: {}, ids: null, label: q.label.kind === 'class' ? { kind: 'all' } : q.label };
}

/** Sets or (with null) removes the filter of one field. An empty value list or open range removes it too. */
export function withFieldFilter(q: BrowseQuery, field: string, filter: FieldFilter | null): BrowseQuery {
  const fields = { ...q.fields };
  const empty =
    filter === null || (filter.kind === 'values' && filter.values.length === 0) || (filter.kind === 'range' && filter.min === null && filter.max === null);
  if (empty) delete fields[field];
  else fields[field] = filter;
  return { ...q, fields };
}

/** The `images.list` request of a query and page. */
export function toRequest(q: BrowseQuery, offset: number, limit: number, counts: boolean): RequestOf<'images.list'> {
  return {
    offset,
    limit,
    counts,
    search: q.search || undefined,
    label: q.label.kind === 'all' ? undefined : q.label.kind === 'unlabelled' ? null : q.label.name,
    annotator: q.annotator ?? undefined,
    filters: Object.values(q.fields),
    ids: q.ids ?? undefined,
    sort: q.sort,
    quality: q.quality ?? undefined,
  };
}

/** One line per active filter, for the chips above the grid. */
export function describeFilter(f: FieldFilter, name = f.field): string {
  switch (f.kind) {
    case 'missing':
      return `${name}: missing`;
    case 'range':
      return f.min !== null && f.max !== null ? `${name}: ${f.min}–${f.max}` : f.min !== null ? `${name} ≥ ${f.min}` : `${name} ≤ ${f.max}`;
    case 'values':
      return `${name}: ${f.values.map((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v))).join(', ')}`;
    default: {
      const never: never = f;
      return String(never);
    }
  }
}
