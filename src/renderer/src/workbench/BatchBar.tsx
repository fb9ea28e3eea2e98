import { Button, Group, Select, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { BrowseCounts, Field } from '../../../shared/types.ts';

/** Applies a label or a field value to every selected image at once (one edit: Ctrl+Z undoes it whole). */
export function BatchBar({
  count,
  classes,
  fields,
  onLabel,
  onField,
  onClear,
}: {
  count: number;
  classes: BrowseCounts['classes'];
  fields: Field[];
  onLabel(name: string | null): void;
  onField(field: string, value: string | boolean | null): void;
  onClear(): void;
}) {
  const [field, setField] = useState<string | null>(null);
  const [value, setValue] = useState('');
  const f = fields.find((x) => x.name === field);
  const choices = f?.type === 'boolean' ? ['yes', 'no'] : (f?.allowedValues ?? null);
  const apply = () => {
    if (!f) return;
    const v = value === '' ? null : f.type === 'boolean' ? value === 'yes' : value;
    onField(f.name, v);
  };
  return (
    <Group gap="xs" p={6} data-testid="batch-bar" style={{ background: 'var(--mantine-color-blue-light)', borderRadius: 6 }}>
      <Text size="sm" fw={600} data-testid="batch-count">
        {count} selected
      </Text>
      <Select
        size="xs"
        w={150}
        placeholder="Set label…"
        data={classes.map((c) => c.name)}
        value={null}
        onChange={(v) => v && onLabel(v)}
        data-testid="batch-label"
      />
      <Select
        size="xs"
        w={150}
        placeholder="Field…"
        data={fields.map((x) => x.name)}
        value={field}
        onChange={(v) => {
          setField(v);
          setValue('');
        }}
        data-testid="batch-field"
      />
      {f &&
        (choices ? (
          <Select
            size="xs"
            w={130}
            placeholder="value (empty: missing)"
            data={choices}
            value={value || null}
            onChange={(v) => setValue(v ?? '')}
            clearable
            data-testid="batch-value"
          />
        ) : (
          <TextInput
            size="xs"
            w={130}
            placeholder="value (empty: missing)"
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            onKeyDown={(e) => {
              e.stopPropagation();
              if (e.key === 'Enter') apply();
            }}
            data-testid="batch-value"
          />
        ))}
      {f && (
        <Button size="xs" onClick={apply} data-testid="batch-apply">
          Apply to {count}
        </Button>
      )}
      <Button size="xs" variant="subtle" onClick={onClear}>
        Clear selection (Esc)
      </Button>
    </Group>
  );
}
