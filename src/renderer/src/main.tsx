import '@mantine/core/styles.css';
import './focus.css';
import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { CSS_VARIABLES, THEME } from './theme.ts';
import { ErrorsProvider } from './errors.tsx';
import { SignInGate } from './team/SignInGate.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider defaultColorScheme="auto" theme={THEME} cssVariablesResolver={CSS_VARIABLES}>
      <ErrorsProvider>
        <SignInGate>
          <App />
        </SignInGate>
      </ErrorsProvider>
    </MantineProvider>
  </StrictMode>,
);
