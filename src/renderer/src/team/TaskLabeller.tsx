import { Alert, Button, Group, Kbd, Stack, Text, Title } from '@mantine/core';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { TaskNext } from '../../../shared/team.ts';
import type { ImageDetail, LabelClass } from '../../../shared/types.ts';
import { api } from '../api.ts';
import { errorMessage } from '../errors.tsx';
import { ImagePanel } from '../workbench/ImagePanel.tsx';
import { typingOrModified, useWindowKeys } from '../keys.ts';

/**
 * One annotator's queue in a task: the next image they have not labelled that still needs labels, with its
 * metadata; a number key (or a class button) labels it and moves on. Keys: the class hotkeys, S skips, Enter
 * enlarges, Ctrl/Cmd+Z undoes the last label (and shows that image again). Blind tasks show no one else's label.
 */
export function TaskLabeller({ taskId, onBack }: { taskId: number; onBack(): void }) {
  const [next, setNext] = useState<TaskNext | null>(null);
  const [detail, setDetail] = useState<ImageDetail | null>(null);
  /** What the last Ctrl+Z took back, said until the next label. */
  const [undone, setUndone] = useState<string | null>(null);
  const [classes, setClasses] = useState<LabelClass[]>([]);
  const [skip, setSkip] = useState<number[]>([]);
  const [large, setLarge] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /**
   * One action at a time. Set at once (a ref), released only in the commit that shows the action's result: a key
   * pressed before the next image is on screen is not taken, never applied to the image still shown.
   */
  const busy = useRef(false);
  const [settled, setSettled] = useState(0);
  useLayoutEffect(() => {
    busy.current = false;
  }, [settled]);

  /** The next image and the progress, shown together: a key never lands on the image just labelled under the new count. */
  const load = useCallback(
    async (skipped: number[]) => {
      const n = await api['team.next']({ taskId, skip: skipped });
      const d = n.imageId === null ? null : await api['images.get']({ id: n.imageId });
      setNext(n);
      setDetail(d);
    },
    [taskId],
  );
  useEffect(() => {
    api['labelSets.get']({}).then(
      (s) => setClasses(s.classes),
      (err: unknown) => setError(errorMessage(err)),
    );
    load([]).catch((err: unknown) => setError(errorMessage(err)));
  }, [load]);

  /** Runs an action, then shows the queue's next image; one at a time (a held key does not label twice). */
  const act = async (fn: () => Promise<void>) => {
    if (busy.current) return;
    busy.current = true;
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      // Rendered with the updates the action made (they are batched into the same commit).
      setSettled((n) => n + 1);
    }
  };
  const label = (name: string | null) =>
    act(async () => {
      if (!detail || name === null) return;
      await api['labels.set']({ imageId: detail.id, className: name });
      setUndone(null);
      await load(skip);
    });
  const skipIt = () =>
    act(async () => {
      if (!detail) return;
      const s = [...skip, detail.id];
      setSkip(s);
      await load(s);
    });
  const undo = () =>
    act(async () => {
      const r = await api['edits.undo']({});
      if (!r.image) {
        setUndone(r.undone);
        return;
      }
      const n = await api['team.next']({ taskId, skip });
      setUndone(r.undone);
      setDetail(r.image);
      setNext(n);
    });

  useWindowKeys((e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      void undo();
      return;
    }
    if (typingOrModified(e)) return;
    const c = classes.find((x) => x.hotkey === e.key);
    if (c) void label(c.name);
    else if (e.key.toLowerCase() === 's') void skipIt();
    else if (e.key === 'Enter') setLarge((l) => !l);
  });

  return (
    <Stack p="md" gap="sm" h="100%" data-testid="task-labeller">
      <Group justify="space-between">
        <Title order={4}>
          {next?.task.name ?? 'Task'} {next?.task.blind ? '(blind)' : ''}
        </Title>
        <Button size="xs" variant="subtle" onClick={onBack}>
          Back to the tasks
        </Button>
      </Group>
      {next && (
        <Text size="sm" data-testid="task-progress">
          You labelled {next.mine} of {next.task.images}; {next.left} left for you. The task has {next.task.labels} of {next.task.needed} labels.
        </Text>
      )}
      {undone && (
        <Text size="xs" c="dimmed" data-testid="undo-note">
          Undone: {undone}
        </Text>
      )}
      <Text size="xs" c="dimmed">
        Keys: the class keys label and move on · <Kbd>S</Kbd> skip · <Kbd>Enter</Kbd> larger · <Kbd>Ctrl</Kbd>+<Kbd>Z</Kbd> undo
      </Text>
      {error && (
        <Alert color="red" data-testid="task-error">
          {error}
        </Alert>
      )}
      {next && next.imageId === null && (
        <Alert color="green" data-testid="task-done">
          Nothing left for you in this task{skip.length > 0 ? ` (you skipped ${skip.length}; reopen the task to see them again)` : ''}.
        </Alert>
      )}
      {detail && (
        <div style={{ flex: 1, minHeight: 0 }}>
          <ImagePanel
            beside
            detail={detail}
            classes={classes}
            large={large}
            onLabel={(n) => void label(n)}
            onSaved={setDetail}
            onOpen={(id) => api['images.get']({ id }).then(setDetail, (err: unknown) => setError(errorMessage(err)))}
            onToggleLarge={() => setLarge((l) => !l)}
          />
        </div>
      )}
    </Stack>
  );
}
