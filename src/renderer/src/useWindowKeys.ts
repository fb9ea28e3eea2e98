import { useEffect, useLayoutEffect, useRef } from 'react';

/**
 * A window keydown handler that always sees the latest render's state. The listener is added once; the handler
 * it calls is swapped before the browser paints (useLayoutEffect), so a key pressed right after the screen
 * changed acts on what the screen shows, never on the previous render's state.
 */
export function useWindowKeys(handler: (e: KeyboardEvent) => void): void {
  const latest = useRef(handler);
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => latest.current(e);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
