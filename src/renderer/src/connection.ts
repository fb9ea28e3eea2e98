import { useSyncExternalStore } from 'react';

/** The words of the banner (which retries until the server answers). */
export const UNREACHABLE_MESSAGE = 'DermFuse server not reachable — retrying';
/** The words of one call that found no server: it is not retried, so a label key pressed meanwhile says so. */
export const NOT_SENT_MESSAGE = 'The DermFuse server is not reachable: nothing was sent or saved. Try again when the banner has gone.';

/** Whether the server answers; `reconnects` counts the times it came back, so screens can load again. */
interface ConnectionState {
  reachable: boolean;
  reconnects: number;
}

let state: ConnectionState = { reachable: true, reconnects: 0 };
const listeners = new Set<() => void>();
const set = (next: ConnectionState) => {
  state = next;
  listeners.forEach((l) => l());
};

export function connectionLost(): void {
  if (state.reachable) set({ ...state, reachable: false });
}

export function connectionAnswered(): void {
  if (!state.reachable) set({ reachable: true, reconnects: state.reconnects + 1 });
}

export function useConnection(): ConnectionState {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}
