import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { signInFromLink, type SwitchQuestion } from '../api.ts';

type State = { kind: 'signing' } | { kind: 'ready' } | { kind: 'ask'; q: SwitchQuestion } | { kind: 'stuck'; message: string };

/**
 * Serve mode: settles who this page acts as before any screen calls the server. A sign-in link opened while another
 * person is signed in on this browser asks first, naming both (a page of another site can open a link, not answer).
 */
export function SignInGate({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ kind: 'signing' });
  useEffect(() => {
    signInFromLink().then(
      (q) => setState(q ? { kind: 'ask', q } : { kind: 'ready' }),
      (err: unknown) => setState({ kind: 'stuck', message: err instanceof Error ? err.message : String(err) }),
    );
  }, []);
  switch (state.kind) {
    case 'ready':
      return children;
    case 'signing':
      return (
        <Center h="100vh">
          <Loader />
        </Center>
      );
    case 'stuck':
      return (
        <Center h="100vh">
          <Alert color="red" title="Not signed in" maw={520} data-testid="signin-error">
            {state.message}
          </Alert>
        </Center>
      );
    case 'ask': {
      const { q } = state;
      return (
        <Center h="100vh">
          <Stack maw={520} data-testid="switch-account">
            <Text fw={700}>Switch account?</Text>
            <Text>
              This browser is signed in as <b>{q.current}</b>. The link you opened signs in as <b>{q.next}</b>. If you did not open a sign-in link yourself just
              now, stay as {q.current}.
            </Text>
            <Group>
              <Button
                variant="default"
                onClick={() =>
                  setState(q.stay() ? { kind: 'ready' } : { kind: 'stuck', message: `To go on as ${q.current}, open ${q.current}'s own sign-in link again.` })
                }
                data-testid="switch-stay"
              >
                Stay as {q.current}
              </Button>
              <Button
                onClick={() =>
                  q.accept().then(
                    () => setState({ kind: 'ready' }),
                    (err: unknown) => setState({ kind: 'stuck', message: err instanceof Error ? err.message : String(err) }),
                  )
                }
                data-testid="switch-accept"
              >
                Switch to {q.next}
              </Button>
            </Group>
          </Stack>
        </Center>
      );
    }
    default: {
      const never: never = state;
      return never;
    }
  }
}
