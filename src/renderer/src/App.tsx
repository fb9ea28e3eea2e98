import { AppShell, Button, Group, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { ProjectInfo } from '../../shared/types.ts';
import { AnnotatorName } from './AnnotatorName.tsx';
import { api } from './api.ts';
import { BrowseScreen } from './browse/BrowseScreen.tsx';
import { ProjectHome } from './screens/ProjectHome.tsx';
import { StartScreen } from './screens/StartScreen.tsx';

type View = 'browse' | 'overview';

export function App() {
  const [project, setProject] = useState<ProjectInfo | null>(null);
  const [view, setView] = useState<View>('browse');
  // In serve mode the project is already open: pick it up instead of asking for a folder.
  useEffect(() => {
    api['project.info']({}).then(setProject, () => undefined);
  }, []);
  if (!project) return <StartScreen onOpened={setProject} />;
  return (
    <AppShell header={{ height: 48 }} padding={0}>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Text fw={700}>DermFuse</Text>
            <Button size="xs" variant={view === 'browse' ? 'filled' : 'subtle'} onClick={() => setView('browse')}>
              Browse
            </Button>
            <Button size="xs" variant={view === 'overview' ? 'filled' : 'subtle'} onClick={() => setView('overview')}>
              Overview
            </Button>
          </Group>
          <Group gap="sm">
            <Text size="xs" c="dimmed">
              {project.dir}
            </Text>
            <AnnotatorName />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>{view === 'browse' ? <BrowseScreen /> : <ProjectHome info={project} onClose={() => setProject(null)} />}</AppShell.Main>
    </AppShell>
  );
}
