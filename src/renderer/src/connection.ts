import { useSyncExternalStore } from 'react';

/** The words of the banner, and of every call that failed for want of a server. */
export const UNREACHABLE_MESSAGE = 'DermFuse server not reachable — retrying';

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
