import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * A table row of a keyboard-driven list (↑/↓ move the focus, the screen's keys act on the focused row): highlighted
 * when focused, focused on click.
 */
export function FocusRow({ focused, onFocus, testId, children }: { focused: boolean; onFocus(): void; testId: string; children: ReactNode }) {
  return (
    <Table.Tr onClick={onFocus} bg={focused ? 'var(--mantine-color-blue-light)' : undefined} style={{ cursor: 'pointer' }} data-testid={testId}>
      {children}
    </Table.Tr>
  );
}
