import { Alert, Button, Card, Container, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import type { ProjectInfo } from '../../../shared/types.ts';
import { api, isDesktop } from '../api.ts';

/** Create or open a project; recent projects one click away. */
export function StartScreen({ onOpened }: { onOpened(info: ProjectInfo): void }) {
  const [dir, setDir] = useState('');
  const [recent, setRecent] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api['project.recent']({}).then(setRecent, () => setRecent([]));
  }, []);

  const run = async (action: 'project.open' | 'project.create' | 'project.sample', target: string) => {
    setBusy(true);
    setError(null);
    try {
      onOpened(await api[action]({ dir: target || undefined } as { dir: string }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const pick = async () => {
    try {
      const chosen = await api['system.pickFolder']({ title: 'Project folder' });
      if (chosen) setDir(chosen);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  return (
    <Container size="sm" py="xl">
      <Stack>
        <Title order={1}>DermFuse</Title>
        <Text c="dimmed">Skin-lesion images with their patient metadata: label, extract CNN features, and see whether the metadata helps.</Text>
        <Card withBorder>
          <Stack>
            <Group align="end">
              <TextInput
                style={{ flex: 1 }}
                label="Project folder"
                placeholder="/path/to/project"
                value={dir}
                onChange={(e) => setDir(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && dir) void run('project.open', dir);
                }}
                data-testid="project-dir"
              />
              {isDesktop && (
                <Button variant="default" onClick={() => void pick()}>
                  Browse…
                </Button>
              )}
            </Group>
            <Group>
              <Button disabled={!dir || busy} onClick={() => void run('project.open', dir)} data-testid="open-project">
                Open
              </Button>
              <Button variant="light" disabled={!dir || busy} onClick={() => void run('project.create', dir)} data-testid="create-project">
                Create
              </Button>
            </Group>
            <Group gap="xs">
              <Button variant="outline" disabled={busy} loading={busy} onClick={() => void run('project.sample', dir)} data-testid="try-sample">
                Try the sample
              </Button>
              <Text size="xs" c="dimmed">
                86 photos of PAD-UFES-20 with their patient data (CC BY 4.0), 12 left to label; works offline. It goes into the folder above, or dermfuse-sample
                in your home folder when that is empty.
              </Text>
            </Group>
            {error && (
              <Alert color="red" title="Could not open the project" data-testid="start-error">
                {error}
              </Alert>
            )}
          </Stack>
        </Card>
        {recent.length > 0 && (
          <Card withBorder>
            <Title order={4} mb="xs">
              Recent projects
            </Title>
            <Stack gap={4}>
              {recent.map((r) => (
                <Button key={r} variant="subtle" justify="start" onClick={() => void run('project.open', r)}>
                  {r}
                </Button>
              ))}
            </Stack>
          </Card>
        )}
      </Stack>
    </Container>
  );
}
