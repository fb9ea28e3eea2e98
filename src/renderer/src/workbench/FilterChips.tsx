import { Badge, Button, CloseButton, Group } from '@mantine/core';
import { useFieldName } from '../fieldNames.tsx';
import { describeFilter, withFieldFilter, withoutFilters, type BrowseQuery } from './query.ts';

/** Every active filter as a chip that removes it, and "Clear all": nothing narrows the grid without saying so. */
export function FilterChips({ query, setQuery, idsTitle }: { query: BrowseQuery; setQuery(q: BrowseQuery): void; idsTitle: string | null }) {
  const fieldName = useFieldName();
  const chips: { key: string; text: string; remove: BrowseQuery }[] = [
    ...(query.ids ? [{ key: 'ids', text: idsTitle ?? `${query.ids.length} chosen images`, remove: { ...query, ids: null } }] : []),
    ...(query.label.kind === 'class' ? [{ key: 'label', text: `label: ${query.label.name}`, remove: { ...query, label: { kind: 'all' as const } } }] : []),
    ...(query.search ? [{ key: 'search', text: `id contains “${query.search}”`, remove: { ...query, search: '' } }] : []),
    ...(query.annotator ? [{ key: 'annotator', text: `by ${query.annotator}`, remove: { ...query, annotator: null } }] : []),
    ...Object.values(query.fields).map((f) => ({ key: f.field, text: describeFilter(f, fieldName(f.field)), remove: withFieldFilter(query, f.field, null) })),
  ];
  if (chips.length === 0) return null;
  return (
    <Group gap={4} data-testid="filter-chips">
      {chips.map((c) => (
        <Badge
          key={c.key}
          variant="light"
          tt="none"
          rightSection={
            <CloseButton size="xs" aria-label={`Remove the filter ${c.text}`} onClick={() => setQuery(c.remove)} data-testid={`chip-remove-${c.key}`} />
          }
          data-testid={`chip-${c.key}`}
        >
          {c.text}
        </Badge>
      ))}
      <Button size="compact-xs" variant="subtle" onClick={() => setQuery(withoutFilters(query))} data-testid="chips-clear">
        Clear all
      </Button>
    </Group>
  );
}
