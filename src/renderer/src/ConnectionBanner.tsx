import { Alert } from '@mantine/core';
import { useEffect } from 'react';
import { api } from './api.ts';
import { UNREACHABLE_MESSAGE, useConnection } from './connection.ts';

/** How often a lost server is asked again. */
const RETRY_MS = 2000;

/**
 * While the server does not answer: a banner saying so (the screens keep what they showed rather than emptying),
 * and a retry every two seconds; the first answer takes the banner away and the screens load again.
 */
export function ConnectionBanner() {
  const { reachable } = useConnection();
  useEffect(() => {
    if (reachable) return;
    const timer = setInterval(() => void api['team.me']({}).catch(() => undefined), RETRY_MS);
    return () => clearInterval(timer);
  }, [reachable]);
  if (reachable) return null;
  return (
    <Alert color="red" variant="filled" radius={0} py={6} data-testid="connection-banner" role="alert">
      {UNREACHABLE_MESSAGE}
    </Alert>
  );
}
