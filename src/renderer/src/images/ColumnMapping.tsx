import { Badge, Select, Table, Text } from '@mantine/core';
import { FIELD_TYPES, fieldLabel, type Field, type FieldType, type ImportFieldMatch, type ImportPreview } from '../../../shared/types.ts';
import { assign, ROLE_NAMES, SINGLE_ROLES, type ColumnRole, type Mapping } from './importMapping.ts';

/** One row per CSV column: what it becomes (a dropdown), its type (inferred, overridable for a new field), its values. */
export function ColumnMapping({
  preview,
  fields,
  mapping,
  onChange,
  proposals,
}: {
  proposals: ReadonlyMap<string, ImportFieldMatch>;
  preview: ImportPreview;
  fields: Field[];
  mapping: Mapping;
  onChange(m: Mapping): void;
}) {
  const specs = new Map((preview.mapping?.fields ?? []).map((f, i) => [preview.columns[i]?.column ?? f.name, f]));
  // Proposals stay explained after they are taken (the next preview no longer lists a column already mapped).
  const matches = proposals;
  const existing = new Set(fields.map((f) => f.name));
  return (
    <Table fz="sm" data-testid="plan-mapping" verticalSpacing={4}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>CSV column</Table.Th>
          <Table.Th>Becomes</Table.Th>
          <Table.Th>Type</Table.Th>
          <Table.Th>Values</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {preview.header.map((col) => {
          const role = mapping.roles[col] ?? 'ignore';
          const field = role.startsWith('field:') ? role.slice(6) : null;
          const known = field !== null && existing.has(field) ? fields.find((f) => f.name === field)! : null;
          const spec = specs.get(col);
          const match = matches.get(col);
          const roleMatch = preview.roleMatches.find((r) => r.column === col);
          const options = [
            ...SINGLE_ROLES.map((r) => ({ value: r, label: ROLE_NAMES[r] })),
            { value: `field:${col}`, label: existing.has(col) ? `Field “${col}” (existing)` : `New field “${col}”` },
            ...fields
              .filter((f) => f.name !== col)
              .map((f) => ({ value: `field:${f.name}`, label: `Existing field “${fieldLabel(f)}”${f.displayName ? ` (${f.name})` : ''}` })),
            { value: 'ignore', label: ROLE_NAMES.ignore },
          ];
          return (
            <Table.Tr key={col} data-testid={`map-row-${col}`}>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>{col}</Table.Td>
              <Table.Td>
                <Select
                  size="xs"
                  w={260}
                  data={options}
                  value={role}
                  onChange={(v) => v && onChange(assign(mapping, col, v as ColumnRole))}
                  allowDeselect={false}
                  aria-label={`What column ${col} becomes`}
                  data-testid={`map-${col}`}
                />
                {match && role === `field:${match.field}` && (
                  <Text size="xs" c="dimmed" data-testid={`map-proposal-${col}`}>
                    proposed: {match.reason}
                  </Text>
                )}
                {roleMatch && role === roleMatch.role && (
                  <Text size="xs" c="dimmed" data-testid={`map-proposal-${col}`}>
                    proposed: {roleMatch.reason}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {field === null ? null : known ? (
                  <Text size="xs">{known.type} (stored)</Text>
                ) : (
                  <Select
                    size="xs"
                    w={130}
                    data={[...FIELD_TYPES]}
                    value={mapping.types[col] ?? spec?.type ?? null}
                    onChange={(v) => v && onChange({ ...mapping, types: { ...mapping.types, [col]: v as FieldType } })}
                    allowDeselect={false}
                    aria-label={`Type of column ${col}`}
                    data-testid={`map-type-${col}`}
                  />
                )}
              </Table.Td>
              <Table.Td>
                <Text size="xs" lineClamp={2}>
                  {role === 'label'
                    ? Object.entries(preview.classes)
                        .map(([c, n]) => `${c} ${n}`)
                        .join(', ')
                    : (spec?.unit ?? spec?.allowedValues?.slice(0, 12).join(', ') ?? '')}
                </Text>
                {known && (
                  <Badge size="xs" variant="outline" color="gray">
                    into the existing field
                  </Badge>
                )}
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
