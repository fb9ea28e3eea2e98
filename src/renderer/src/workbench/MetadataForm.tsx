import { Input, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import { fieldLabel, type Field, type FieldValue, type ImageDetail } from '../../../shared/types.ts';
import { api } from '../api.ts';

/** One typed input: saved when it loses focus or on Enter; an invalid value shows why and is not saved. */
function FieldInput({ field, value, imageId, onSaved }: { field: Field; value: FieldValue; imageId: number; onSaved(d: ImageDetail): void }) {
  const [text, setText] = useState(value === null ? '' : String(value));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(value === null ? '' : String(value));
    setError(null);
  }, [value, imageId]);
  const save = async (v: FieldValue) => {
    try {
      onSaved(await api['fields.set']({ imageId, field: field.name, value: v }));
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const label = `${fieldLabel(field)}${field.unit ? ` (${field.unit})` : ''}`;
  if (field.type === 'boolean') {
    // Three states: a missing value must not look like "no".
    return (
      <Input.Wrapper label={label} error={error}>
        <SegmentedControl
          size="xs"
          fullWidth
          data={[
            { label: 'yes', value: 'yes' },
            { label: 'no', value: 'no' },
            { label: 'missing', value: 'missing' },
          ]}
          value={value === true ? 'yes' : value === false ? 'no' : 'missing'}
          onChange={(v) => void save(v === 'yes' ? true : v === 'no' ? false : null)}
          data-testid={`field-${field.name}`}
        />
      </Input.Wrapper>
    );
  }
  if ((field.type === 'category' || field.type === 'ordinal') && field.allowedValues) {
    return (
      <Select
        label={label}
        data={field.allowedValues}
        value={value === null ? null : String(value)}
        clearable
        onChange={(v) => void save(v === null ? null : field.type === 'ordinal' ? Number(v) : v)}
        error={error}
        data-testid={`field-${field.name}`}
      />
    );
  }
  const commit = () => {
    const current = value === null ? '' : String(value);
    if (text === current) return;
    void save(text.trim() === '' ? null : field.type === 'number' ? text.trim() : text);
  };
  return (
    <TextInput
      label={label}
      value={text}
      error={error}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        e.stopPropagation();
        if (e.key === 'Enter') commit();
        if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
      }}
      data-testid={`field-${field.name}`}
    />
  );
}

export function MetadataForm({ detail, onSaved }: { detail: ImageDetail; onSaved(d: ImageDetail): void }) {
  if (detail.fields.length === 0) return <Text c="dimmed">No metadata fields.</Text>;
  return (
    <Stack gap="xs">
      {detail.fields.map((f) => (
        <FieldInput key={f.name} field={f} value={detail.metadata[f.name] ?? null} imageId={detail.id} onSaved={onSaved} />
      ))}
    </Stack>
  );
}
