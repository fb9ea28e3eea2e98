import { Table } from '@mantine/core';
import { fieldLabel, type ImageDetail } from '../../../shared/types.ts';
import { TableHead } from '../TableHead.tsx';

/** Every change of an image, labels and metadata together, newest first, with who made it, how and when. */
export function History({ detail }: { detail: ImageDetail }) {
  const rows = [
    ...detail.history.map((h) => ({
      at: h.at,
      what: 'label',
      change: `${h.label ?? '(cleared)'}${h.unsure ? '?' : ''}${h.withdrawn ? ' (undone)' : ''}`,
      author: h.author,
      source: h.source,
      withdrawn: h.withdrawn,
    })),
    ...detail.fieldHistory.map((e) => ({
      at: e.at,
      what: fieldLabel(detail.fields.find((f) => f.name === e.field) ?? { name: e.field }),
      change: `${e.before ?? '–'} → ${e.after ?? '–'}`,
      author: e.author,
      source: e.source,
      withdrawn: false,
    })),
  ].sort((a, b) => b.at.localeCompare(a.at));
  return (
    <Table fz="xs" data-testid="history">
      <TableHead columns={['What', 'Change', 'Who', 'How', 'When']} />
      <Table.Tbody>
        {rows.map((h, i) => (
          <Table.Tr key={i} style={h.withdrawn ? { textDecoration: 'line-through', opacity: 0.6 } : undefined}>
            <Table.Td>{h.what}</Table.Td>
            <Table.Td>{h.change}</Table.Td>
            <Table.Td>{h.author}</Table.Td>
            <Table.Td>{h.source === 'user' ? 'edited' : h.source}</Table.Td>
            <Table.Td style={{ whiteSpace: 'nowrap' }}>{new Date(h.at).toLocaleString()}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
