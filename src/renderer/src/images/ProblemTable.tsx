import { ScrollArea, Table, Text } from '@mantine/core';
import type { ImportProblem } from '../../../shared/types.ts';
import { count } from '../plural.ts';
import { TableHead } from '../TableHead.tsx';

/**
 * Every problem the preview (or the import, `testId` "import") found, one row each: the CSV line, the column and the
 * value it is about, and what to do.
 */
export function ProblemTable({
  problems,
  total,
  found = 'found',
  testId = 'plan',
}: {
  problems: ImportProblem[];
  total: number;
  found?: string;
  testId?: string;
}) {
  return (
    <>
      <Text fw={600} data-testid={`${testId}-problem-count`}>
        {count(total, 'problem')} {found}
        {total > problems.length ? ` (first ${problems.length} listed)` : ''}
      </Text>
      {problems.length > 0 && (
        <ScrollArea.Autosize mah={320} type="auto">
          <Table fz="xs" data-testid={`${testId}-problems`} striped>
            <TableHead columns={['Row', 'Column', 'Value', 'Problem']} />
            <Table.Tbody>
              {problems.map((p, i) => (
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
