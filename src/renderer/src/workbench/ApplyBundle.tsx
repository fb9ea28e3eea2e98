import { Button, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import { api } from '../api.ts';

/** Applies an exported model bundle to the unlabelled images: its predictions appear as suggestions. */
export function ApplyBundle({ onApplied, onError }: { onApplied(): void; onError(message: string): void }) {
  const [bundle, setBundle] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const apply = async () => {
    setBusy(true);
    setDone(null);
    try {
      const r = await api['suggestions.apply']({ bundle });
      setDone(`${r.suggested} suggestions${r.failed ? `, ${r.failed} images failed` : ''}`);
      onApplied();
    } catch (err) {
      onError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap={4} mt="md">
      <Text size="xs" fw={600}>
        Suggest labels with a model
      </Text>
      <TextInput
        size="xs"
        placeholder="/path/to/bundle"
        value={bundle}
        onChange={(e) => setBundle(e.currentTarget.value)}
        onKeyDown={(e) => e.stopPropagation()}
        data-testid="bundle-path"
      />
      <Button size="xs" variant="light" disabled={!bundle || busy} loading={busy} onClick={() => void apply()} data-testid="apply-bundle">
        Apply to unlabelled
      </Button>
      {done && (
        <Text size="xs" c="dimmed" data-testid="apply-result">
          {done}
        </Text>
      )}
    </Stack>
  );
}
