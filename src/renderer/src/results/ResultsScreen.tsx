import { Box, Button, Group, ScrollArea, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import type { RunListItem } from '../../../shared/results.ts';
import type { ProjectInfo } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { RunReport } from './RunReport.tsx';
import { NewRun } from './NewRun.tsx';
import { CompareRuns, RunsTable } from './RunsPanel.tsx';
import { useShowError } from '../errors.tsx';

/** Runs: extract, train, list and compare; the report of the selected run. */
export function ResultsScreen({ info, onOpenInBrowser }: { info: ProjectInfo; onOpenInBrowser(ids: number[], title: string): void }) {
  const [runs, setRuns] = useState<RunListItem[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const [compare, setCompare] = useState<number[]>([]);
  const showError = useShowError();
  const load = useCallback(
    () =>
      api['runs.list']({}).then(
        (r) => {
          setRuns(r);
          setSelected((s) => s ?? r.find((x) => x.status === 'done')?.runId ?? null);
        },
        (err: unknown) => showError('Listing the runs', err),
      ),
    [showError],
  );
  useEffect(() => void load(), [load]);
  // The form takes room the charts need: folded away once a run is open, a click brings it back.
  const [formOpen, setFormOpen] = useState<boolean | null>(null);
  const showForm = formOpen ?? selected === null;
  const comparing = compare.length === 2 ? runs.filter((r) => compare.includes(r.runId)) : null;
  return (
    <Group align="stretch" gap={0} wrap="nowrap" style={{ height: '100%' }}>
      {/* Folded, the form leaves only the runs list: narrow, so a report's case table fits beside it at 1280 px. */}
      <ScrollArea w={showForm ? 420 : 290} p="xs" style={{ borderRight: '1px solid var(--mantine-color-gray-3)', flexShrink: 0 }}>
        <Stack gap="sm">
          <Button
            size="xs"
            variant={showForm ? 'subtle' : 'light'}
            onClick={() => setFormOpen(!showForm)}
            aria-expanded={showForm}
            data-testid="new-run-toggle"
          >
            {showForm ? '▾ Hide features and new run' : '▸ Features and new run…'}
          </Button>
          {showForm && (
            <NewRun
              info={info}
              onDone={(id) => {
                void load();
                if (id !== null) {
                  setSelected(id);
                  setCompare([]);
                  setFormOpen(null); // folded again: the new run's report needs the room
                  // A failed or cancelled run keeps the form open with its choices (a run it made on the way may now be listed).
                } else setFormOpen(true);
              }}
            />
          )}
          <Title order={5}>Runs</Title>
          <RunsTable
            runs={runs}
            selected={selected}
            compare={compare}
            onSelect={(id) => {
              setSelected(id);
              setCompare([]);
            }}
            onCompare={setCompare}
          />
          {compare.length === 1 && (
            <Text size="xs" c="dimmed">
              Tick a second run to compare.
            </Text>
          )}
        </Stack>
      </ScrollArea>
      <Box p="sm" style={{ flex: 1, minWidth: 0, overflow: 'auto' }}>
        {comparing ? (
          <CompareRuns runs={comparing} />
        ) : selected !== null ? (
          <RunReport key={selected} runId={selected} onChanged={() => void load()} onOpenInBrowser={onOpenInBrowser} />
        ) : (
          <Text c="dimmed">No finished run yet.</Text>
        )}
      </Box>
    </Group>
  );
}
