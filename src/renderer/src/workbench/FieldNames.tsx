import { Alert, Card, Table, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { Field } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { errorMessage } from '../errors.tsx';
import { TableHead } from '../TableHead.tsx';

/** One field's display name: saved when it loses focus or on Enter; emptied, the field is shown by its name again. */
function NameInput({ field, onSaved, onError }: { field: Field; onSaved(fields: Field[]): void; onError(message: string | null): void }) {
  const [text, setText] = useState(field.displayName ?? '');
  useEffect(() => setText(field.displayName ?? ''), [field.displayName]);
  const commit = async () => {
    if (text.trim() === (field.displayName ?? '')) return;
    try {
      onSaved(await api['fields.rename']({ field: field.name, displayName: text.trim() || null }));
      onError(null);
    } catch (e) {
      onError(errorMessage(e));
    }
  };
  return (
    <TextInput
      size="xs"
      placeholder={field.name}
      value={text}
      maxLength={200}
      aria-label={`Display name of ${field.name}`}
      onChange={(e) => setText(e.currentTarget.value)}
      onBlur={() => void commit()}
      onKeyDown={(e) => e.key === 'Enter' && void commit()}
      data-testid={`display-name-${field.name}`}
    />
  );
}

/** The project's metadata fields with what the screens call them (the stored name stays what filters, runs and the CLI use). */
export function FieldNames({ onSaved }: { onSaved(): void }) {
  const [fields, setFields] = useState<Field[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api['project.info']({}).then(
      (p) => setFields(p.fields),
      (e: unknown) => setError(errorMessage(e)),
    );
  }, []);
  if (fields !== null && fields.length === 0) return null;
  return (
    <Card withBorder data-testid="field-names">
      <Title order={4}>Metadata fields</Title>
      <Text size="xs" c="dimmed" mb="xs">
        What the screens call each field, e.g. “Fitzpatrick skin type” for a column named fitspatrick. Empty: the column name.
      </Text>
      {error && (
        <Alert color="red" mb="xs" data-testid="field-names-error">
          {error}
        </Alert>
      )}
      {fields && (
        <Table fz="sm">
          <TableHead columns={['Field (as imported)', 'Type', 'Shown as']} />
          <Table.Tbody>
            {fields.map((f) => (
              <Table.Tr key={f.name}>
                <Table.Td style={{ fontFamily: 'monospace' }}>{f.name}</Table.Td>
                <Table.Td>{f.type}</Table.Td>
                <Table.Td>
                  <NameInput
                    field={f}
                    onError={setError}
                    onSaved={(next) => {
                      setFields(next);
                      onSaved();
                    }}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Card>
  );
}
