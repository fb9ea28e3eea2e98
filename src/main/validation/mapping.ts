import { DermFuseError } from '../../shared/errors.ts';
import type { FieldType, FieldValue } from '../../shared/types.ts';
import type { ValidationMaps, ValidationReport } from '../../shared/validation.ts';
import { parseCell } from '../files/values.ts';
import type { TabularEncoder } from '../ml/fusion/tabular.ts';

/** What the run knows: its classes, how labels became them, its metadata fields and the encoder fitted on them. */
export interface RunSide {
  classes: string[];
  /** Binary runs on a derived target: the label-set classes of the positive class. */
  positive: string[] | null;
  /** The label-set classes the run's labels came from. */
  labelClasses: string[];
  fields: { name: string; type: string }[];
  encoder: TabularEncoder;
}

export interface MappedSet {
  /** Indices of the external images kept (a class mapped to "" leaves its images out). */
  keep: number[];
  truth: Int32Array;
  /** Metadata of the kept images in the run's field order, as the run's types (null: missing). */
  meta: FieldValue[][];
  classMap: ValidationReport['classMap'];
  /** Each run field's external source (null: absent). */
  from: (string | null)[];
}

const count = <T>(xs: T[]) => {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};
const listed = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([v, n]) => `"${v}" (${n})`)
    .join(', ');

/**
 * The run class of each external label: a binary run counts the `positive` external classes (or, without them, the
 * external classes named as the run's own positive classes) as positive; a multiclass run needs each external
 * class mapped to one of its classes. A class the maps do not place is named, never guessed.
 */
function mapClasses(run: RunSide, labels: string[], maps: ValidationMaps): { runClass: (number | null)[]; report: MappedSet['classMap'] } {
  const counts = count(labels);
  const classMap = maps.classMap ?? {};
  for (const k of Object.keys(classMap))
    if (!counts.has(k))
      throw new DermFuseError('INVALID_ARGUMENT', `--map-class names "${k}", which no external image has. External classes: ${listed(counts)}.`);
  const mapped = (l: string) => (Object.hasOwn(classMap, l) ? classMap[l]! : l);
  let classOf: (l: string) => number | null | undefined;
  const given = maps.positive;
  if (given && run.classes.length !== 2)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `--positive is for binary runs; this run has ${run.classes.length} classes (${run.classes.join(', ')}): map the external classes with --map-class.`,
    );
  for (const p of given ?? [])
    if (!counts.has(p) && ![...counts.keys()].some((l) => mapped(l) === p))
      throw new DermFuseError('INVALID_ARGUMENT', `--positive names "${p}", which no external image has. External classes: ${listed(counts)}.`);
  if (given) {
    // A binary run, on a derived target or on a two-class label set alike: the named classes are its positive class.
    classOf = (l) => {
      const m = mapped(l);
      if (m === '') return null;
      return given.includes(l) || given.includes(m) ? 1 : 0;
    };
  } else if (run.positive) {
    classOf = (l) => {
      const m = mapped(l);
      if (m === '') return null;
      if (!run.labelClasses.includes(m)) return undefined;
      return run.positive!.includes(m) ? 1 : 0;
    };
  } else {
    classOf = (l) => {
      const m = mapped(l);
      if (m === '') return null;
      const k = run.classes.indexOf(m);
      return k < 0 ? undefined : k;
    };
  }
  const unmapped = new Map([...counts].filter(([l]) => classOf(l) === undefined));
  if (unmapped.size > 0) {
    const how = run.positive
      ? `say which external classes are the run's positive class (${run.classes[1]}) with --positive, or map them to the run's classes (${run.labelClasses.join(', ')}) with --map-class`
      : `map them to the run's classes (${run.classes.join(', ')}) with --map-class "external=RUN", or leave them out with "external="`;
    throw new DermFuseError('INVALID_ARGUMENT', `External classes the run does not know: ${listed(unmapped)}; ${how}.`);
  }
  const runClass = labels.map((l) => classOf(l) as number | null);
  // A binary run's AUC, sensitivity and specificity need both classes: a set without one is refused before any work.
  const present = new Set(runClass.filter((k) => k !== null));
  if (run.classes.length === 2 && present.size < 2) {
    const lacking = run.classes[present.has(1) ? 0 : 1]!;
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `The external set has no image the run would count as "${lacking}" (${listed(counts)}): AUC and the rates need both classes; check --positive and --map-class, or validate on a set that has both.`,
    );
  }
  const report = [...counts].map(([external, n]) => {
    const k = classOf(external) as number | null;
    return { external, run: k === null ? null : run.classes[k]!, count: n };
  });
  return { runClass, report };
}

/**
 * Reads the external metadata as the run's fields: each from the external field mapped to it (or of its name),
 * values renamed by the value map and parsed as the run's type. A category value the run never saw in training, or a
 * value that does not parse, is named with its count: the model would only read it as "other", which is a guess.
 */
export function mapExternal(
  run: RunSide,
  ext: { labels: string[]; fields: { name: string; type: string }[]; meta: FieldValue[][] },
  maps: ValidationMaps,
): MappedSet {
  const { runClass, report } = mapClasses(run, ext.labels, maps);
  const fieldMap = maps.fieldMap ?? {};
  const extNames = ext.fields.map((f) => f.name);
  for (const [from, to] of Object.entries(fieldMap)) {
    if (!extNames.includes(from))
      throw new DermFuseError('INVALID_ARGUMENT', `--map-field ${from}=${to}: the external set has no field "${from}". Its fields: ${extNames.join(', ')}.`);
    if (!run.fields.some((f) => f.name === to))
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `--map-field ${from}=${to}: the run uses no field "${to}". Its fields: ${run.fields.map((f) => f.name).join(', ')}.`,
      );
  }
  for (const f of Object.keys(maps.valueMap ?? {}))
    if (!run.fields.some((x) => x.name === f))
      throw new DermFuseError('INVALID_ARGUMENT', `--map-value ${f}:…: the run uses no field "${f}". Its fields: ${run.fields.map((x) => x.name).join(', ')}.`);
  for (const f of maps.absent ?? [])
    if (!run.fields.some((x) => x.name === f))
      throw new DermFuseError(
        'INVALID_ARGUMENT',
        `--absent-field ${f}: the run uses no field "${f}". Its fields: ${run.fields.map((x) => x.name).join(', ')}.`,
      );
  const from = run.fields.map((f) => {
    if (maps.absent?.includes(f.name)) return null;
    const mappedFrom = Object.entries(fieldMap).find(([, to]) => to === f.name)?.[0];
    return mappedFrom ?? (extNames.includes(f.name) && !Object.hasOwn(fieldMap, f.name) ? f.name : null);
  });
  const keep = runClass.flatMap((k, i) => (k === null ? [] : [i]));
  const problems: string[] = [];
  const columns = run.fields.map((f, j) => {
    const col = from[j] === null ? -1 : extNames.indexOf(from[j]!);
    const values = maps.valueMap?.[f.name] ?? {};
    const enc = run.encoder.fields[j];
    const unseen = new Map<string, number>();
    const unparsed = new Map<string, number>();
    // A value map names values as the external set spells them: one it does not have is a mistake, not a no-op.
    const seen = new Set(
      col < 0
        ? []
        : keep
            .map((i) => ext.meta[i]![col])
            .filter((v) => v !== null && v !== undefined)
            .map(String),
    );
    const stray = Object.keys(values).filter((v) => !seen.has(v));
    if (stray.length)
      problems.push(
        `--map-value ${f.name}: no external image has ${stray.map((v) => `"${v}"`).join(', ')} there (its values: ${
          [...seen]
            .slice(0, 20)
            .map((v) => `"${v}"`)
            .join(', ') || 'none'
        })`,
      );
    const out = keep.map((i) => {
      const raw = col < 0 ? null : ext.meta[i]![col]!;
      if (raw === null || raw === undefined) return null;
      const text = Object.hasOwn(values, String(raw)) ? values[String(raw)]! : String(raw);
      const parsed = parseCell(f.type as FieldType, text);
      if (!parsed.ok) {
        unparsed.set(text, (unparsed.get(text) ?? 0) + 1);
        return null;
      }
      if (enc?.kind === 'category' && parsed.value !== null && !enc.values.includes(String(parsed.value)))
        unseen.set(String(parsed.value), (unseen.get(String(parsed.value)) ?? 0) + 1);
      return parsed.value;
    });
    const src = from[j] === f.name ? `"${f.name}"` : `"${f.name}" (from "${from[j]}")`;
    if (unparsed.size) problems.push(`field ${src}: values that are not a ${f.type}: ${listed(unparsed)}`);
    if (unseen.size && enc?.kind === 'category')
      problems.push(`field ${src}: values never seen in training: ${listed(unseen)} (training had ${enc.values.join(', ')})`);
    return out;
  });
  if (problems.length)
    throw new DermFuseError(
      'INVALID_VALUE',
      `${problems.join('; ')}. Map each with --map-value "FIELD:VALUE=KNOWN" (or "FIELD:VALUE=" to read it as missing).`,
    );
  return {
    keep,
    truth: Int32Array.from(keep, (i) => runClass[i]!),
    meta: keep.map((_, r) => columns.map((c) => c[r]!)),
    classMap: report,
    from,
  };
}
