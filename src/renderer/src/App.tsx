import { AppShell, Badge, Button, Group, Text } from '@mantine/core';
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { ProjectInfo } from '../../shared/types.ts';
import { AnnotatorName } from './team/AnnotatorName.tsx';
import { api, isDesktop } from './api.ts';
import { BrowseScreen } from './workbench/BrowseScreen.tsx';
import { JobBar, JobsProvider } from './jobs/JobsContext.tsx';
import { FieldNamesProvider } from './fieldNames.tsx';
import { ImportScreen } from './images/ImportScreen.tsx';
import { LabelSetEditor } from './workbench/LabelSetEditor.tsx';
import { ProjectHome } from './project/ProjectHome.tsx';
import { StartScreen } from './project/StartScreen.tsx';
import { QualityScreen } from './quality/QualityScreen.tsx';
import { AgreementScreen } from './team/AgreementScreen.tsx';
import { useShowError } from './errors.tsx';
import { ApiError } from '../../shared/api.ts';
import { roleAtLeast, type Me, type Role } from '../../shared/team.ts';
import { TasksScreen } from './team/TasksScreen.tsx';
import { AdjudicationScreen } from './team/AdjudicationScreen.tsx';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { ScreenBoundary } from './ScreenBoundary.tsx';
import { useConnection } from './connection.ts';

/**
 * The results screens carry the charting library: loaded when first opened, not on the way to the first thumbnails.
 * A failed fetch is remembered by lazy(), so "Try again" makes a new one.
 */
const loadResults = () => lazy(() => import('./results/ResultsScreen.tsx').then((m) => ({ default: m.ResultsScreen })));
let ResultsScreen = loadResults();

/** Screens, the least role that may open each, and whether a blind annotator may (the browser shows others' labels). */
const VIEWS = [
  ['browse', 'Browse', 'annotator', false],
  ['tasks', 'Tasks', 'annotator', true],
  ['adjudicate', 'Adjudicate', 'adjudicator', true],
  ['import', 'Import', 'admin', true],
  ['labels', 'Labels & fields', 'admin', true],
  ['quality', 'Data quality', 'adjudicator', true],
  ['agreement', 'Agreement', 'adjudicator', true],
  ['results', 'Models & results', 'adjudicator', true],
  ['overview', 'Overview', 'annotator', true],
] as const satisfies readonly (readonly [string, string, Role, boolean])[];
type View = (typeof VIEWS)[number][0];

/** The screens this person may open. */
function viewsFor(me: Me | null) {
  return VIEWS.filter(([, , role, whenBlind]) => me === null || (roleAtLeast(me.role, role) && (whenBlind || !me.blind)));
}

export function App() {
  const [project, setProject] = useState<ProjectInfo | null>(null);
  const [view, setView] = useState<View>('browse');
  /** Bumped when the data under the browser changed (import, label-set edit): it re-queries. */
  const [generation, setGeneration] = useState(0);
  /** Images sent to the browser from the results screens (a confusion cell, a lasso on the map). */
  const [chosen, setChosen] = useState<{ ids: number[]; title: string } | null>(null);
  // In serve mode the project is already open: pick it up instead of asking for a folder.
  const [me, setMe] = useState<Me | null>(null);
  const showError = useShowError();
  const opened = useCallback(
    (p: ProjectInfo) => {
      // Who is signed in decides the screens: a blind annotator starts at their tasks.
      api['team.me']({}).then(
        (who) => {
          setMe(who);
          setProject(p);
          // An empty project has nothing to browse yet: start at the import.
          setView(who.blind ? 'tasks' : p.images === 0 && who.role === 'admin' ? 'import' : 'browse');
        },
        (err: unknown) => showError('Signing in', err),
      );
    },
    [showError],
  );
  useEffect(() => {
    // No project open yet is the normal first start: the start screen asks for one. Anything else is shown.
    api['project.info']({}).then(opened, (err: unknown) => {
      if (!(err instanceof ApiError && err.payload.code === 'NOT_A_PROJECT')) showError('Opening the project', err);
    });
  }, [opened, showError]);
  const changed = useCallback(() => {
    setGeneration((g) => g + 1);
    api['project.info']({}).then(setProject, (err: unknown) => showError('Refreshing the project', err));
  }, [showError]);
  // The server came back: what the screens show may be stale, so they load again.
  const { reconnects } = useConnection();
  useEffect(() => {
    if (reconnects > 0) changed();
  }, [reconnects, changed]);
  if (!project) return <StartScreen onOpened={opened} />;
  const screen = (() => {
    switch (view) {
      case 'browse':
        return <BrowseScreen key={`${generation}-${chosen?.title ?? ''}`} initial={chosen} />;
      case 'tasks':
        return <TasksScreen me={me!} />;
      case 'adjudicate':
        return <AdjudicationScreen />;
      case 'import':
        return <ImportScreen onImported={changed} />;
      case 'labels':
        return <LabelSetEditor onSaved={changed} />;
      case 'quality':
        return <QualityScreen />;
      case 'agreement':
        return <AgreementScreen />;
      case 'results':
        return (
          <Suspense fallback={<Text p="md">Loading…</Text>}>
            <ResultsScreen
              info={project}
              onOpenInBrowser={(ids, title) => {
                setChosen({ ids, title });
                setView('browse');
              }}
            />
          </Suspense>
        );
      case 'overview':
        // A served project is pinned (the start screen could not open another): only the window closes one.
        return <ProjectHome info={project} onClose={me?.account || !isDesktop ? undefined : () => setProject(null)} />;
      default: {
        const never: never = view;
        return never;
      }
    }
  })();
  return (
    <JobsProvider>
      <FieldNamesProvider fields={project.fields}>
        <AppShell header={{ height: 48 }} padding={0}>
          <AppShell.Header>
            <Group h="100%" px="md" justify="space-between">
              <Group gap={4}>
                <Text fw={700} mr="sm">
                  DermFuse
                </Text>
                {viewsFor(me).map(([v, title]) => (
                  <Button
                    key={v}
                    size="xs"
                    variant={view === v ? 'filled' : 'subtle'}
                    onClick={() => {
                      if (v === 'browse') setChosen(null);
                      setView(v);
                    }}
                    data-testid={`nav-${v}`}
                  >
                    {title}
                  </Button>
                ))}
              </Group>
              <Group gap="sm">
                <Text size="xs" c="dimmed">
                  {project.dir}
                </Text>
                {me?.account ? (
                  <Badge variant="light" size="lg" data-testid="signed-in">
                    {me.name} · {me.role}
                    {me.blind ? ' · blind' : ''}
                  </Badge>
                ) : (
                  <AnnotatorName />
                )}
              </Group>
            </Group>
          </AppShell.Header>
          <AppShell.Main style={{ display: 'flex', flexDirection: 'column', height: '100vh' }}>
            <ConnectionBanner />
            <JobBar />
            <div style={{ flex: 1, minHeight: 0, overflow: 'auto' }}>
              <ScreenBoundary
                key={view}
                what={VIEWS.find(([v]) => v === view)?.[1] ?? 'This screen'}
                onRetry={() => {
                  if (view === 'results') ResultsScreen = loadResults();
                }}
              >
                {screen}
              </ScreenBoundary>
            </div>
          </AppShell.Main>
        </AppShell>
      </FieldNamesProvider>
    </JobsProvider>
  );
}
