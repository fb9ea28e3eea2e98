import { FocusRow } from '../FocusRow.tsx';
import { Badge, Button, Group, ScrollArea, SegmentedControl, Stack, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import { MODES, runClassOf, type CaseFilter, type CaseRow, type Mode } from '../../../shared/results.ts';
import { api } from '../api.ts';
import { mediaUrl } from '../media.ts';
import { MODE_COLORS } from './chartOptions.ts';
import { Term } from './Term.tsx';
import { errorMessage } from '../errors.tsx';
import { ExplainPanel } from './ExplainPanel.tsx';
import { useFieldName } from '../fieldNames.tsx';

export interface CaseSelection {
  mode: Mode;
  trueClass?: string;
  predictedClass?: string;
  filter: CaseFilter;
}

const FILTER_LABELS: Record<CaseFilter, string> = {
  all: 'All',
  wrong: 'Wrong',
  fusedRightImageWrong: 'Fused right, image wrong',
  imageRightFusedWrong: 'Image right, fused wrong',
  fusedRightMetadataWrong: 'Fused right, metadata wrong',
};
const LIMIT = 500;
/** Thumbnail side in the case table: enough to recognise a lesion beside its row (the panel shows it large). */
const THUMB = 44;
/** The P columns' heads: short, so that three of them and the ids fit beside the case panel at 1280 px. */
const MODE_HEADS: Record<Mode, string> = { image: 'image', metadata: 'meta', fused: 'fused' };

/** An id or class name that may break after "_" or "/" (PAT_354_1817_500, not BCC/MEL/SCC) rather than widen its column. */
function Breakable({ text }: { text: string }) {
  const parts = text.split(/(?<=[_/])/);
  return (
    <>
      {parts.map((p, i) => (
        <span key={i}>
          {p}
          {i < parts.length - 1 && <wbr />}
        </span>
      ))}
    </>
  );
}

/**
 * The images behind a number, worst first: the image, its metadata and what each mode said; a wrong label is fixed
 * here with one click (written as the annotator's label, undoable in the browser).
 */
export function CasesList({
  runId,
  classes,
  positive,
  selection,
  onSelection,
  onChanged,
  onOpenInBrowser,
}: {
  runId: number;
  classes: string[];
  positive: string[] | null;
  selection: CaseSelection;
  onSelection(s: CaseSelection): void;
  onChanged(): void;
  onOpenInBrowser(ids: number[], title: string): void;
}) {
  const fieldName = useFieldName();
  const [rows, setRows] = useState<CaseRow[]>([]);
  const [total, setTotal] = useState(0);
  const [focus, setFocus] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [allClasses, setAllClasses] = useState<string[]>([]);
  useEffect(() => {
    api['runs.cases']({ runId, ...selection, limit: LIMIT }).then(
      (r) => {
        setRows(r.rows);
        setTotal(r.total);
        setFocus(0);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [runId, selection]);
  useEffect(() => {
    api['labelSets.get']({}).then(
      (s) => setAllClasses(s.classes.map((c) => c.name)),
      (e: unknown) => setError(errorMessage(e)),
    );
  }, []);
  const current = rows[focus];
  const relabel = async (name: string) => {
    if (!current) return;
    try {
      const d = await api['labels.set']({ imageId: current.imageId, className: name });
      // The same mapping main uses: a derived target folds classes, so another class may still be the same target.
      const changed = runClassOf(positive, classes, d.label) !== classes.indexOf(current.trueLabel);
      setRows(rows.map((r) => (r.imageId === current.imageId ? { ...r, currentLabel: d.label, labelChanged: changed } : r)));
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  // Binary runs show the probability of the positive class, whatever the truth, so a high number always means "yes";
  // with more classes, the probability the model gave the image's own class.
  const binary = classes.length === 2;
  const pHead = binary ? `P(${classes[1]})` : 'P(true class)';
  const cell = { paddingInline: 6 };
  const pTitle = (m: Mode) =>
    binary
      ? `${m}: probability of ${classes[1]} (red: the call differs from the target)`
      : `${m}: probability the model gave the image's true class (red: it predicted another)`;
  const shownClass = (r: CaseRow) => (binary ? 1 : classes.indexOf(r.trueLabel));
  const title =
    `${selection.trueClass ? `true ${selection.trueClass}` : ''}${selection.predictedClass ? `, ${selection.mode} predicted ${selection.predictedClass}` : ''} ${FILTER_LABELS[selection.filter]}`.trim();
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <SegmentedControl
          size="xs"
          data={Object.entries(FILTER_LABELS).map(([value, label]) => ({ value, label }))}
          value={selection.filter}
          onChange={(v) => onSelection({ ...selection, filter: v as CaseFilter })}
          data-testid="case-filter"
        />
        <Group gap={4}>
          {(selection.trueClass || selection.predictedClass) && (
            <Badge
              data-testid="case-cell"
              rightSection={
                <span style={{ cursor: 'pointer' }} onClick={() => onSelection({ mode: selection.mode, filter: selection.filter })}>
                  ×
                </span>
              }
            >
              {title}
            </Badge>
          )}
          <Text size="xs" data-testid="case-count">
            {total} images{total > LIMIT ? ` (worst ${LIMIT} shown)` : ''}
          </Text>
          <Button
            size="compact-xs"
            variant="light"
            disabled={rows.length === 0}
            onClick={() =>
              onOpenInBrowser(
                rows.map((r) => r.imageId),
                title || `run ${runId} cases`,
              )
            }
          >
            Open in browser
          </Button>
        </Group>
      </Group>
      {error && (
        <Text c="red" size="sm">
          {error}
        </Text>
      )}
      <Group align="start" wrap="nowrap" gap="sm">
        <ScrollArea h={480} type="auto" style={{ flex: 1, minWidth: 0 }}>
          <Table fz="xs" highlightOnHover horizontalSpacing={6} data-testid="case-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th rowSpan={2} />
                <Table.Th rowSpan={2}>Image</Table.Th>
                <Table.Th rowSpan={2}>{positive ? 'Target' : 'True'}</Table.Th>
                {positive && (
                  <Table.Th rowSpan={2} title="The label stored for the image now (the target folds it into yes/no)">
                    Diagnosis
                  </Table.Th>
                )}
                <Table.Th colSpan={MODES.length} style={{ textAlign: 'center', paddingBottom: 0 }} data-testid="p-head">
                  <Breakable text={pHead} />
                </Table.Th>
                <Table.Th rowSpan={2}>
                  <Term name="loss" />
                </Table.Th>
              </Table.Tr>
              <Table.Tr>
                {MODES.map((m) => (
                  <Table.Th key={m} c={MODE_COLORS[m]} title={pTitle(m)} style={{ ...cell, paddingTop: 0 }} data-testid={`p-head-${m}`}>
                    {MODE_HEADS[m]}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r, i) => (
                <FocusRow key={r.imageId} focused={i === focus} onFocus={() => setFocus(i)} testId={`case-${r.externalId}`}>
                  <Table.Td>
                    <img
                      src={mediaUrl('thumb', r.imageId)}
                      alt=""
                      width={THUMB}
                      height={THUMB}
                      style={{ objectFit: 'cover', borderRadius: 3, display: 'block' }}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Breakable text={r.externalId} />
                  </Table.Td>
                  <Table.Td>
                    <Breakable text={r.trueLabel} />
                    {r.labelChanged && (
                      <Badge size="xs" color="yellow" ml={4} data-testid={`case-changed-${r.externalId}`}>
                        now {r.currentLabel ?? 'unlabelled'}
                      </Badge>
                    )}
                  </Table.Td>
                  {positive && (
                    <Table.Td style={{ whiteSpace: 'nowrap' }} data-testid={`case-diagnosis-${r.externalId}`}>
                      {r.currentLabel ?? 'unlabelled'}
                    </Table.Td>
                  )}
                  {MODES.map((m) => (
                    <Table.Td key={m} c={r.predicted[m] === r.trueLabel ? undefined : 'red.9'} title={`${m} predicted ${r.predicted[m]}`} style={cell}>
                      {Math.round(100 * r.probs[m][shownClass(r)]!)}%
                    </Table.Td>
                  ))}
                  <Table.Td>{r.loss.toFixed(2)}</Table.Td>
                </FocusRow>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
        {current && (
          <Stack w={230} gap={6} data-testid="case-detail" style={{ flexShrink: 0 }}>
            <ExplainPanel
              runId={runId}
              imageId={current.imageId}
              externalId={current.externalId}
              mode={selection.mode}
              rowPrediction={current.predicted[selection.mode]}
            />
            <Text size="sm" fw={600}>
              {current.externalId}: trained as {current.trueLabel}, diagnosis now {current.currentLabel ?? 'unlabelled'}
            </Text>
            <Table fz="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>P(class)</Table.Th>
                  {MODES.map((m) => (
                    <Table.Th key={m} c={MODE_COLORS[m]}>
                      {m}
                    </Table.Th>
                  ))}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {classes.map((c, k) => (
                  <Table.Tr key={c}>
                    <Table.Td style={{ overflowWrap: 'anywhere' }}>{c}</Table.Td>
                    {MODES.map((m) => (
                      <Table.Td key={m} c={MODE_COLORS[m]}>
                        {(current.probs[m][k]! * 100).toFixed(0)}%
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
                {Object.entries(current.metadata).map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Td c="dimmed">{fieldName(k)}</Table.Td>
                    <Table.Td colSpan={3}>{v === null ? '–' : String(v)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            <Text size="xs" fw={600}>
              Fix the label
            </Text>
            <Group gap={4}>
              {allClasses.map((c) => (
                <Button
                  key={c}
                  size="compact-xs"
                  variant={current.currentLabel === c ? 'filled' : 'light'}
                  onClick={() => void relabel(c)}
                  data-testid={`case-relabel-${c}`}
                >
                  {c}
                </Button>
              ))}
            </Group>
          </Stack>
        )}
      </Group>
    </Stack>
  );
}
