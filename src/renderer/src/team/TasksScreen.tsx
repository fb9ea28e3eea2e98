import { Badge, Button, Group, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { roleAtLeast, type Me, type TaskInfo } from '../../../shared/team.ts';
import { api } from '../api.ts';
import { CallError, errorMessage, useCall } from '../errors.tsx';
import { NewTask } from './NewTask.tsx';
import { TaskLabeller } from './TaskLabeller.tsx';
import { UsersPanel } from './UsersPanel.tsx';
import { ActivityPanel } from './ActivityPanel.tsx';

/**
 * Labelling tasks: each with its progress per annotator; "Label" opens the caller's queue in it. Admins also make
 * and close tasks and manage the project's accounts here.
 */
export function TasksScreen({ me }: { me: Me }) {
  const [version, setVersion] = useState(0);
  const [labelling, setLabelling] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tasks = useCall(() => api['team.tasks']({}), [version]);
  const admin = roleAtLeast(me.role, 'admin');
  if (labelling !== null)
    return (
      <TaskLabeller
        taskId={labelling}
        onBack={() => {
          setLabelling(null);
          setVersion((v) => v + 1);
        }}
      />
    );
  const close = (t: TaskInfo) =>
    api['team.closeTask']({ id: t.id }).then(
      () => setVersion((v) => v + 1),
      (err: unknown) => setError(errorMessage(err)),
    );
  return (
    <Stack p="md" gap="md" data-testid="tasks">
      <Title order={4}>Labelling tasks</Title>
      {me.blind && (
        <Text size="sm" c="dimmed" data-testid="blind-note">
          A blind task is open: you see your own labels only — no one else&apos;s, no imported label, no counts and no model suggestions — until the task is
          closed.
        </Text>
      )}
      {tasks.error && <CallError call={tasks} what="Reading the tasks" />}
      {error && (
        <Text c="red" size="sm">
          {error}
        </Text>
      )}
      {tasks.data && tasks.data.length === 0 && <Text size="sm">No labelling tasks yet{admin ? ': make one below.' : '.'}</Text>}
      {tasks.data && tasks.data.length > 0 && (
        <Table fz="sm" data-testid="task-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Task</Table.Th>
              <Table.Th>Images</Table.Th>
              <Table.Th>Labels</Table.Th>
              <Table.Th>Per annotator</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tasks.data.map((t) => (
              <Table.Tr key={t.id} data-testid={`task-${t.name}`}>
                <Table.Td>
                  {t.name} {t.blind && <Badge size="xs">blind</Badge>}{' '}
                  {t.closedAt && (
                    <Badge size="xs" color="gray">
                      closed
                    </Badge>
                  )}
                  <Text size="xs" c="dimmed">
                    {t.perImage} labels per image · by {t.createdBy}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {t.complete} of {t.images} complete
                </Table.Td>
                <Table.Td w={200}>
                  <Progress value={t.needed ? (100 * t.labels) / t.needed : 0} />
                  <Text size="xs">
                    {t.labels} / {t.needed}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="xs" data-testid="task-annotators">
                    {t.annotators.map((a) => `${a.name} ${a.labelled}`).join(', ') || '–'}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {!t.closedAt && (
                    <Group gap={4}>
                      <Button size="xs" onClick={() => setLabelling(t.id)} data-testid="task-label">
                        Label
                      </Button>
                      {admin && (
                        <Button size="xs" variant="subtle" color="gray" onClick={() => void close(t)} data-testid="task-close">
                          Close
                        </Button>
                      )}
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {admin && <NewTask onCreated={() => setVersion((v) => v + 1)} />}
      {admin && <UsersPanel />}
      {admin && <ActivityPanel />}
    </Stack>
  );
}
