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

/** True when a key press belongs to a text field or carries a modifier: a screen's letter shortcuts leave it alone. */
export function typingOrModified(e: KeyboardEvent): boolean {
  return !!(e.target as HTMLElement | null)?.closest?.('input, textarea, [contenteditable]') || e.ctrlKey || e.metaKey || e.altKey;
}

/** ↑/↓ move the focus within a list of `count` rows; true when the key was one of them. */
export function moveInList(e: KeyboardEvent, count: number, setFocus: (f: (i: number) => number) => void): boolean {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return false;
  e.preventDefault();
  setFocus((f) => Math.max(0, Math.min(count - 1, f + (e.key === 'ArrowDown' ? 1 : -1))));
  return true;
}
