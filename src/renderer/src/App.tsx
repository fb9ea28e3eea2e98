import { useState } from 'react';
import type { ProjectInfo } from '../../shared/types.ts';
import { ProjectHome } from './screens/ProjectHome.tsx';
import { StartScreen } from './screens/StartScreen.tsx';

export function App() {
  const [project, setProject] = useState<ProjectInfo | null>(null);
  return project ? <ProjectHome info={project} onClose={() => setProject(null)} /> : <StartScreen onOpened={setProject} />;
}
