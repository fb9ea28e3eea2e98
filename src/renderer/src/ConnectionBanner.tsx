import { Alert } from '@mantine/core';
import { useEffect } from 'react';
import { api, isDesktop } from './api.ts';
import { UNREACHABLE_MESSAGE, useConnection } from './connection.ts';

/** How often a lost server is asked again. */
const RETRY_MS = 2000;
/** How often a browser tab checks, while nobody acts, that its server is still there (serve only). */
const HEARTBEAT_MS = 10_000;

/**
 * While the server does not answer: a banner saying so (the screens keep what they showed rather than emptying),
 * and a retry every two seconds; the first answer takes the banner away and the screens load again. In a browser,
 * a quiet check every ten seconds notices a stopped server before the next key press does.
 */
export function ConnectionBanner() {
  const { reachable } = useConnection();
  useEffect(() => {
    if (reachable && isDesktop) return;
    const ask = () => void api['team.me']({}).catch(() => undefined);
    const timer = setInterval(() => (reachable ? document.visibilityState === 'visible' && ask() : ask()), reachable ? HEARTBEAT_MS : RETRY_MS);
    return () => clearInterval(timer);
  }, [reachable]);
  if (reachable) return null;
  return (
    <Alert color="red" variant="filled" radius={0} py={6} data-testid="connection-banner" role="alert">
      {UNREACHABLE_MESSAGE}
    </Alert>
  );
}
