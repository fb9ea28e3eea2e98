import { Checkbox, MultiSelect, NumberInput, Select, Stack, Text } from '@mantine/core';
import { fieldLabel, type BrowseFacets, type FieldFilter, type FieldSummary } from '../../../shared/types.ts';

const label = (v: string | number | boolean) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

/** The filter of one field: a range for numbers, values for the rest, and "missing" for every field. */
function FieldFilterInput({ f, filter, onChange }: { f: FieldSummary; filter: FieldFilter | undefined; onChange(next: FieldFilter | null): void }) {
  const missing = filter?.kind === 'missing';
  const title = `${fieldLabel(f)}${f.unit ? ` (${f.unit})` : ''}`;
  const missingBox = (
    <Checkbox
      size="xs"
      label={`missing (${f.missing})`}
      checked={missing}
      onChange={(e) => onChange(e.currentTarget.checked ? { kind: 'missing', field: f.name } : null)}
      data-testid={`filter-missing-${f.name}`}
    />
  );
  if (f.type === 'number') {
    const range = filter?.kind === 'range' ? filter : { min: null, max: null };
    const set = (which: 'min' | 'max', v: string | number) => {
      const n = v === '' ? null : Number(v);
      onChange({ kind: 'range', field: f.name, min: range.min, max: range.max, [which]: n });
    };
    return (
      <Stack gap={2}>
        <Text size="xs" fw={600}>
          {title}{' '}
          <Text span size="xs" c="dimmed">
            {f.min ?? '–'}…{f.max ?? '–'}
          </Text>
        </Text>
        <NumberInput
          size="xs"
          placeholder="from"
          value={range.min ?? ''}
          onChange={(v) => set('min', v)}
          disabled={missing}
          onKeyDown={(e) => e.stopPropagation()}
          data-testid={`filter-min-${f.name}`}
        />
        <NumberInput
          size="xs"
          placeholder="to"
          value={range.max ?? ''}
          onChange={(v) => set('max', v)}
          disabled={missing}
          onKeyDown={(e) => e.stopPropagation()}
          data-testid={`filter-max-${f.name}`}
        />
        {missingBox}
      </Stack>
    );
  }
  const chosen = filter?.kind === 'values' ? filter.values.map(label) : [];
  const options = f.values.map((v) => ({ value: label(v.value), label: `${label(v.value)} (${v.count})` }));
  const parse = (s: string): string | number | boolean => f.values.find((v) => label(v.value) === s)?.value ?? s;
  return (
    <Stack gap={2}>
      <MultiSelect
        size="xs"
        label={title}
        data={options}
        value={chosen}
        searchable
        clearable
        disabled={missing}
        onChange={(vals) => onChange(vals.length ? { kind: 'values', field: f.name, values: vals.map(parse) } : null)}
        onKeyDown={(e) => e.stopPropagation()}
        data-testid={`filter-values-${f.name}`}
      />
      {missingBox}
    </Stack>
  );
}

/** Filters on the annotator and on every metadata field. */
export function FilterPanel({
  facets,
  fields,
  annotator,
  onField,
  onAnnotator,
}: {
  facets: BrowseFacets;
  fields: Record<string, FieldFilter>;
  annotator: string | null;
  onField(field: string, f: FieldFilter | null): void;
  onAnnotator(a: string | null): void;
}) {
  return (
    <Stack gap="sm" data-testid="filter-panel">
      <Select
        size="xs"
        label="Annotator"
        placeholder="anyone"
        clearable
        data={facets.annotators.map((a) => ({ value: a.name, label: `${a.name} (${a.count})` }))}
        value={annotator}
        onChange={onAnnotator}
        data-testid="filter-annotator"
      />
      {facets.fields.map((f) => (
        <FieldFilterInput key={f.name} f={f} filter={fields[f.name]} onChange={(next) => onField(f.name, next)} />
      ))}
    </Stack>
  );
}
