import { Alert, Button, Checkbox, Group, NumberInput, SegmentedControl, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { ApiError } from '../../../shared/api.ts';
import type { ValidationPlan, ValidationSource } from '../../../shared/validation.ts';
import { api } from '../api.ts';
import { PathField } from '../images/FolderPicker.tsx';
import { useJobs } from '../jobs/JobsContext.tsx';

const LEAVE_OUT = '(leave out)';
const POSITIVE = '(positive)';
const NEGATIVE = '(negative)';
const ABSENT = '(absent: imputed)';
const MISSING = '(missing)';
const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

/** The form's initial class choices: the suggested maps, and for a binary run positive or negative by name. */
function initialClasses(plan: ValidationPlan): Record<string, string | null> {
  const s = plan.suggested;
  return Object.fromEntries(
    plan.external.classes.map((c) => {
      if (plan.run.task === 'binary') {
        if (s.positive?.includes(c.name)) return [c.name, POSITIVE];
        return [c.name, s.classMap[c.name] ? NEGATIVE : null];
      }
      return [c.name, s.classMap[c.name] ?? null];
    }),
  );
}

/**
 * Validate a run on another labelled set: choose another project or an image folder with its CSV, read both sides'
 * classes and fields, map them from dropdowns (the values of each mapped field side by side), then run it as a job.
 */
export function ValidateForm({ runId, onDone }: { runId: number; onDone(id: number): void }) {
  const jobs = useJobs();
  const [kind, setKind] = useState<'project' | 'folder'>('project');
  const [dir, setDir] = useState('');
  const [images, setImages] = useState('');
  const [csv, setCsv] = useState('');
  const [plan, setPlan] = useState<ValidationPlan | null>(null);
  const [classes, setClasses] = useState<Record<string, string | null>>({});
  const [fields, setFields] = useState<Record<string, string>>({});
  const [values, setValues] = useState<Record<string, Record<string, string>>>({});
  const [error, setError] = useState<string | null>(null);
  const [recalibrate, setRecalibrate] = useState(false);
  const [fraction, setFraction] = useState(0.3);
  const source = (): ValidationSource => (kind === 'project' ? { kind, dir } : { kind, imagesDir: images, metadataPath: csv });
  const read = async () => {
    setError(null);
    try {
      const p = await api['validations.plan']({ runId, source: source() });
      setPlan(p);
      setClasses(initialClasses(p));
      const inverse = Object.fromEntries(Object.entries(p.suggested.fieldMap).map(([ext, run]) => [run, ext]));
      setFields(Object.fromEntries(p.run.fields.map((f) => [f.name, inverse[f.name] ?? ABSENT])));
      setValues({});
    } catch (e) {
      setError(message(e));
    }
  };
  const validate = async () => {
    if (!plan) return;
    setError(null);
    const binary = plan.run.task === 'binary';
    const chosen = Object.entries(classes);
    const unplaced = chosen.filter(([, v]) => v === null).map(([k]) => k);
    if (unplaced.length) return setError(`Choose what these external classes count as: ${unplaced.join(', ')}.`);
    const classMap = Object.fromEntries(chosen.filter(([, v]) => v === LEAVE_OUT || (!binary && v !== null)).map(([k, v]) => [k, v === LEAVE_OUT ? '' : v!]));
    const fieldMap = Object.fromEntries(Object.entries(fields).flatMap(([run, ext]) => (ext === ABSENT ? [] : [[ext, run]])));
    const valueMap = Object.fromEntries(
      Object.entries(values).map(([f, m]) => [f, Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === MISSING ? '' : v]))]),
    );
    try {
      const job = await jobs.run({
        kind: 'validate',
        runId,
        source: source(),
        positive: binary ? chosen.filter(([, v]) => v === POSITIVE).map(([k]) => k) : undefined,
        classMap,
        fieldMap,
        valueMap,
        // A field chosen as absent is read as missing even where the other set has one of that name.
        absent: Object.entries(fields)
          .filter(([, ext]) => ext === ABSENT)
          .map(([run]) => run),
        recalibrate: binary && recalibrate ? fraction : undefined,
      });
      if (job.status === 'failed') setError(job.error?.message ?? 'The validation failed.');
      if (job.kind === 'validate' && job.status === 'done' && job.result) onDone(job.result.id);
    } catch (e) {
      setError(message(e));
    }
  };
  // A binary run's two choices name its classes: "positive" alone does not say which one a two-class label set has.
  const classOptions = plan
    ? plan.run.task === 'binary'
      ? [{ value: POSITIVE, label: `counts as ${plan.run.classes[1]}` }, { value: NEGATIVE, label: `counts as ${plan.run.classes[0]}` }, LEAVE_OUT]
      : [...plan.run.classes, LEAVE_OUT]
    : [];
  return (
    <Stack gap="xs" data-testid="validate-form">
      <Group align="end">
        <SegmentedControl
          value={kind}
          onChange={(v) => setKind(v as 'project' | 'folder')}
          data={[
            { value: 'project', label: 'Another project' },
            { value: 'folder', label: 'Image folder + CSV' },
          ]}
        />
        {kind === 'project' ? (
          <PathField
            kind="folder"
            label="Project folder"
            placeholder="the other project's folder"
            value={dir}
            onChange={setDir}
            testId="validate-dir"
            inputTestId="validate-dir"
          />
        ) : (
          <>
            <PathField
              kind="folder"
              label="Image folder"
              placeholder="its photos"
              value={images}
              onChange={setImages}
              testId="validate-images"
              inputTestId="validate-images"
            />
            <PathField
              kind="csv"
              label="CSV"
              placeholder="its labels and metadata"
              value={csv}
              onChange={setCsv}
              testId="validate-csv"
              inputTestId="validate-csv"
            />
          </>
        )}
        <Button variant="light" onClick={() => void read()} data-testid="validate-read">
          Read classes and fields
        </Button>
      </Group>
      {error && (
        <Alert color="red" data-testid="validate-error">
          {error}
        </Alert>
      )}
      {plan && (
        <>
          <Text size="sm">
            {plan.external.images} labelled images.{' '}
            {plan.run.task === 'binary' ? `The run predicts ${plan.run.classes[1]}: say which external classes count as it.` : ''}
          </Text>
          <Title order={5}>Classes</Title>
          <Table withTableBorder data-testid="validate-classes">
            <Table.Tbody>
              {plan.external.classes.map((c) => (
                <Table.Tr key={c.name}>
                  <Table.Td>
                    {c.name} ({c.count})
                  </Table.Td>
                  <Table.Td>
                    <Select
                      data-testid={`map-class-${c.name}`}
                      placeholder="choose"
                      data={classOptions}
                      value={classes[c.name] ?? null}
                      onChange={(v) => setClasses((m) => ({ ...m, [c.name]: v }))}
                    />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Title order={5}>Fields the model uses</Title>
          <Table withTableBorder data-testid="validate-fields">
            <Table.Tbody>
              {plan.run.fields.map((f) => {
                const ext = plan.external.fields.find((x) => x.name === fields[f.name]);
                const unknown = f.values && ext?.values ? ext.values.filter((v) => !f.values!.includes(v.value)) : [];
                return (
                  <Table.Tr key={f.name}>
                    <Table.Td>
                      {f.name} ({f.type}){f.values ? `: ${f.values.join(', ')}` : ''}
                    </Table.Td>
                    <Table.Td>
                      <Select
                        data-testid={`map-field-${f.name}`}
                        data={[ABSENT, ...plan.external.fields.map((x) => x.name)]}
                        value={fields[f.name] ?? ABSENT}
                        onChange={(v) => setFields((m) => ({ ...m, [f.name]: v ?? ABSENT }))}
                      />
                      {ext?.values && (
                        <Text size="xs" c="dimmed">
                          external: {ext.values.map((v) => `${v.value} (${v.count})`).join(', ')}
                          {ext.missing ? `, missing (${ext.missing})` : ''}
                        </Text>
                      )}
                      {unknown.map((v) => (
                        <Group key={v.value} gap="xs">
                          <Text size="xs">
                            {v.value} ({v.count}) →
                          </Text>
                          <Select
                            size="xs"
                            data-testid={`map-value-${f.name}-${v.value}`}
                            placeholder="never seen in training: choose"
                            data={[...f.values!, MISSING]}
                            value={values[f.name]?.[v.value] ?? null}
                            onChange={(x) => setValues((m) => ({ ...m, [f.name]: { ...m[f.name], ...(x ? { [v.value]: x } : {}) } }))}
                          />
                        </Group>
                      ))}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          {plan.run.task === 'binary' && (
            <Group align="end">
              <Checkbox
                label="Also recalibrate on a slice of the external patients (reported apart, judged on the rest)"
                checked={recalibrate}
                onChange={(e) => setRecalibrate(e.currentTarget.checked)}
                data-testid="validate-recalibrate"
              />
              {recalibrate && (
                <NumberInput
                  size="xs"
                  w={110}
                  label="share fitted on"
                  min={0.05}
                  max={0.95}
                  step={0.05}
                  decimalScale={2}
                  value={fraction}
                  onChange={(v) => setFraction(typeof v === 'number' ? v : Number(v))}
                  data-testid="validate-fraction"
                />
              )}
            </Group>
          )}
          <Button onClick={() => void validate()} disabled={jobs.current?.status === 'running'} data-testid="validate-start">
            Validate
          </Button>
        </>
      )}
    </Stack>
  );
}
