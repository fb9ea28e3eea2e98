import { Alert, Button, Group, Stack, Text } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../shared/api.ts';

/** The message a person should read for anything a call threw. */
export function errorMessage(err: unknown): string {
  return err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
}

interface Shown {
  id: number;
  what: string;
  message: string;
}

// Outside an ErrorsProvider (a component test) a failure surfaces as an uncaught error rather than vanishing.
const ShowError = createContext<(what: string, err: unknown) => void>((_what, err) =>
  queueMicrotask(() => {
    throw err;
  }),
);

/**
 * Shows failed background calls (what the app fetched on its own, not what a form submitted) as dismissable
 * alerts above the screen: no failure is swallowed. Forms show their own errors beside their fields.
 */
export function ErrorsProvider({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState<Shown[]>([]);
  const next = useRef(1);
  const show = useCallback((what: string, err: unknown) => {
    // A lost server is the banner's to say, once, not every background call's.
    if (err instanceof ApiError && err.payload.code === 'UNREACHABLE') return;
    const message = errorMessage(err);
    setShown((s) => (s.some((x) => x.what === what && x.message === message) ? s : [...s.slice(-4), { id: next.current++, what, message }]));
  }, []);
  return (
    <ShowError.Provider value={show}>
      {shown.length > 0 && (
        <Stack gap={4} p="xs" data-testid="app-errors">
          {shown.map((e) => (
            <Alert key={e.id} color="red" withCloseButton onClose={() => setShown((s) => s.filter((x) => x.id !== e.id))} data-testid="app-error">
              <Text size="sm">
                {e.what} failed: {e.message}
              </Text>
            </Alert>
          ))}
        </Stack>
      )}
      {children}
    </ShowError.Provider>
  );
}

/** `showError(what, err)`: report a failed call to the person, once per distinct message. */
export function useShowError(): (what: string, err: unknown) => void {
  return useContext(ShowError);
}

export interface Call<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  retry(): void;
}

/** Runs a contract call when `deps` change; keeps its data, its error message and a retry. Stale answers are dropped. */
export function useCall<T>(fn: () => Promise<T>, deps: readonly unknown[]): Call<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [attempt, setAttempt] = useState(0);
  const run = useRef(fn);
  run.current = fn;
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    run.current().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (err: unknown) => current && setState((s) => ({ data: s.data, error: errorMessage(err), loading: false })),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the call depends on
  }, [...deps, attempt]);
  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return useMemo(() => ({ ...state, retry }), [state, retry]);
}

/** A call's error with a retry button; nothing while it is fine. */
export function CallError({ call, what }: { call: Pick<Call<unknown>, 'error' | 'retry'>; what: string }) {
  if (!call.error) return null;
  return (
    <Alert color="red" data-testid="call-error">
      <Group justify="space-between">
        <Text size="sm">
          {what} failed: {call.error}
        </Text>
        <Button size="compact-xs" variant="light" color="red" onClick={call.retry}>
          Retry
        </Button>
      </Group>
    </Alert>
  );
}
