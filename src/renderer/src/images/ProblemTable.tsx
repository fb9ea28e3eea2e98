import { ScrollArea, Table, Text } from '@mantine/core';
import type { ImportPreview } from '../../../shared/types.ts';
import { TableHead } from '../TableHead.tsx';

/** Every problem the preview found, one row each: the CSV line, the column and the value it is about, and what to do. */
export function ProblemTable({ preview }: { preview: ImportPreview }) {
  return (
    <>
      <Text fw={600} data-testid="plan-problem-count">
        {preview.problemCount} problems found{preview.problemCount > preview.problems.length ? ` (first ${preview.problems.length} listed)` : ''}
      </Text>
      {preview.problems.length > 0 && (
        <ScrollArea.Autosize mah={320} type="auto">
          <Table fz="xs" data-testid="plan-problems" striped>
            <TableHead columns={['Row', 'Column', 'Value', 'Problem']} />
            <Table.Tbody>
              {preview.problems.map((p, i) => (
                <Table.Tr key={i} data-testid={p.line ? `problem-line-${p.line}` : undefined}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{p.line ? `line ${p.line}` : p.source}</Table.Td>
                  <Table.Td>{p.column ?? ''}</Table.Td>
                  <Table.Td style={{ overflowWrap: 'anywhere' }}>{p.value ?? ''}</Table.Td>
                  <Table.Td>{p.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea.Autosize>
      )}
    </>
  );
}
