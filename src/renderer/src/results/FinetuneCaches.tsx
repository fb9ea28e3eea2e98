import { Button, Group, Stack, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { describeViewCache, diskSize, type ViewCacheInfo } from '../../../shared/results.ts';
import { errorMessage } from '../errors.tsx';

export interface CacheCalls {
  list(): Promise<ViewCacheInfo[]>;
  remove(name: string): Promise<ViewCacheInfo[]>;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : 'unknown');

/**
 * The fine-tuning view caches on disk, under the fine-tuning options: what each holds, its size and last use, and
 * a Remove that asks once more (a later run of those settings caches again, which takes minutes).
 */
export function FinetuneCaches({ calls }: { calls: CacheCalls }) {
  const [caches, setCaches] = useState<ViewCacheInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    calls.list().then(
      (c) => current && setCaches(c),
      (e: unknown) => current && setError(`Listing the view caches failed: ${errorMessage(e)}`),
    );
    return () => {
      current = false;
    };
  }, [calls]);
  const remove = async (name: string) => {
    setAsking(null);
    setRemoving(name);
    setError(null);
    try {
      setCaches(await calls.remove(name));
    } catch (e) {
      setError(`Removing ${name} failed: ${errorMessage(e)}`);
      // What is in use may have changed since the list was read.
      calls.list().then(setCaches, () => {});
    } finally {
      setRemoving(null);
    }
  };
  if (!caches && !error) return null;
  const total = (caches ?? []).reduce((s, c) => s + c.bytes, 0);
  return (
    <Stack gap={4} data-testid="finetune-caches">
      <Text size="xs" fw={500}>
        Cached views on disk{caches && caches.length > 0 ? `: ${caches.length}, ${diskSize(total)}` : ''}
      </Text>
      <Text size="xs" c="dimmed">
        {caches && caches.length === 0
          ? 'None yet. The first fine-tuned run of a setting caches the frozen part of the network once per image and view; later runs of that setting reuse it.'
          : 'Reused by fine-tuned runs of the same backbone, starting point, views and random views. Removing one frees the space; the next run of those settings caches again.'}
      </Text>
      {error && (
        <Text size="xs" c="red" role="alert" data-testid="finetune-caches-error">
          {error}
        </Text>
      )}
      {(caches ?? []).map((c) => (
        <Group key={c.name} gap="xs" justify="space-between" wrap="nowrap" data-testid="finetune-cache">
          <Text size="xs" style={{ minWidth: 0 }} title={c.name}>
            {describeViewCache(c)} · {diskSize(c.bytes)} · last used {when(c.lastUsed)}
            {c.busy ? ' · in use' : ''}
          </Text>
          {asking === c.name ? (
            <Group gap={4} wrap="nowrap">
              <Button size="compact-xs" color="red" onClick={() => void remove(c.name)} data-testid="finetune-cache-confirm">
                Remove {diskSize(c.bytes)}
              </Button>
              <Button size="compact-xs" variant="default" onClick={() => setAsking(null)}>
                Keep
              </Button>
            </Group>
          ) : (
            <Button
              size="compact-xs"
              variant="light"
              color="red"
              disabled={c.busy || removing !== null}
              loading={removing === c.name}
              onClick={() => setAsking(c.name)}
              data-testid="finetune-cache-remove"
            >
              Remove
            </Button>
          )}
        </Group>
      ))}
    </Stack>
  );
}
