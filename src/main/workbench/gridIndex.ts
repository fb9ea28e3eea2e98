import { DermFuseError } from '../../shared/errors.ts';
import type { FieldFilter, FieldType } from '../../shared/types.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import { repoOf } from '../db/open.ts';
import { GridRepo } from '../db/repos/gridRepo.ts';
import { QualityRepo } from '../db/repos/qualityRepo.ts';
import { outlierCount } from '../quality/pairs.ts';
import { duplicateReport } from '../quality/report.ts';
import type { QualityFilter } from '../../shared/quality.ts';

/**
 * The grid's filter-and-sort index: the columns the browser filters and sorts by, held in typed arrays, one slot
 * per readable image in image-id order. Built from the database on first use (about half a second for 100,000
 * images), kept exact by the editor's own edits (which patch it), and rebuilt after any other write (an import,
 * another process). Filtering and sorting 100,000 images is then a pass over arrays, not a query over joins.
 */
interface Column {
  id: number;
  name: string;
  type: FieldType;
  /** Values are read when a query first filters or sorts by the field (opening the grid needs none). */
  loaded: boolean;
  /** number, ordinal, boolean: the value, NaN when missing. */
  num: Float64Array | null;
  /** category, text: an index into `dict`, -1 when missing. */
  code: Int32Array | null;
  dict: string[];
  codes: Map<string, number>;
  /** Sort ranks, built when first sorted by and dropped when the column changes. */
  rank: Int32Array | null;
}

export interface GridIndex {
  version: string;
  labelSetId: number;
  ids: Int32Array;
  externalIds: string[];
  /** Slot of an image id (-1: not a readable image), indexed by id. */
  slotOf: Int32Array;
  label: Int32Array;
  /** Who labelled each image and when: read when first filtered or sorted by (counting needs only the class). */
  who: { author: Int32Array; authors: string[]; authorCodes: Map<string, number>; labelledAt: string[] } | null;
  columns: Map<string, Column>;
}

const indexes = new WeakMap<Project, GridIndex>();

/** Changes whenever anything is written to the file, by this connection or another. */
export function writeVersion(project: Project): string {
  return repoOf(project.db, GridRepo).writeVersion();
}

function codeOf(map: Map<string, number>, list: string[], s: string): number {
  let c = map.get(s);
  if (c === undefined) {
    c = list.length;
    list.push(s);
    map.set(s, c);
  }
  return c;
}

function build(project: Project, version: string): GridIndex {
  const db = project.db;
  const labelSetId = repoOf(db, LabelsRepo).primarySet()?.id ?? -1;
  const grid = repoOf(db, GridRepo);
  const rows = grid.readableImages();
  const n = rows.length;
  const maxId = grid.idBound();
  const ix: GridIndex = {
    version,
    labelSetId,
    ids: Int32Array.from(rows, (r) => r[0]),
    externalIds: rows.map((r) => r[1]),
    slotOf: new Int32Array(maxId).fill(-1),
    label: new Int32Array(n).fill(-1),
    who: null,
    columns: new Map(),
  };
  rows.forEach((r, i) => (ix.slotOf[r[0]] = i));
  for (const [id, cls] of grid.labelledImages(labelSetId)) {
    const s = slot(ix, id);
    if (s >= 0) ix.label[s] = cls;
  }
  for (const f of grid.fields()) {
    ix.columns.set(f.name, { id: f.id, name: f.name, type: f.type, loaded: false, num: null, code: null, dict: [], codes: new Map(), rank: null });
  }
  return ix;
}

function slot(ix: GridIndex, id: number): number {
  return id < ix.slotOf.length ? ix.slotOf[id]! : -1;
}

function whoOf(project: Project, ix: GridIndex): NonNullable<GridIndex['who']> {
  if (ix.who) return ix.who;
  const n = ix.ids.length;
  const who = {
    author: new Int32Array(n).fill(-1),
    authors: [] as string[],
    authorCodes: new Map<string, number>(),
    labelledAt: new Array<string>(n).fill(''),
  };
  for (const [id, author, at] of repoOf(project.db, GridRepo).labelAuthors(ix.labelSetId)) {
    const s = slot(ix, id);
    if (s < 0) continue;
    who.author[s] = codeOf(who.authorCodes, who.authors, author);
    who.labelledAt[s] = at;
  }
  ix.who = who;
  return who;
}

/** Reads one field's values into its column. */
function load(project: Project, ix: GridIndex, col: Column): Column {
  if (col.loaded) return col;
  const n = ix.ids.length;
  const textual = col.type === 'category' || col.type === 'text';
  col.num = textual ? null : new Float64Array(n).fill(NaN);
  col.code = textual ? new Int32Array(n).fill(-1) : null;
  for (const [id, v] of repoOf(project.db, GridRepo).fieldColumn(col.id, textual)) {
    const s = slot(ix, id);
    if (s < 0) continue;
    if (col.num) col.num[s] = (v as number | null) ?? NaN;
    else if (v !== null) col.code![s] = codeOf(col.codes, col.dict, v as string);
  }
  col.loaded = true;
  return col;
}

/** The index of the project as it is now: reused while nothing else was written, else built anew. */
export function gridIndex(project: Project): GridIndex {
  const version = writeVersion(project);
  const ix = indexes.get(project);
  if (ix && ix.version === version) return ix;
  const fresh = build(project, version);
  indexes.set(project, fresh);
  return fresh;
}

/**
 * Runs an edit and patches the index with what it wrote, so the next page needs no rebuild. If anything else was
 * written since the index was built, it is dropped instead (and rebuilt when next needed).
 */
export function editThrough<T>(project: Project, write: () => T, patch: (ix: GridIndex) => void): T {
  const ix = indexes.get(project);
  const before = ix ? writeVersion(project) : null;
  const out = write();
  if (ix) {
    if (ix.version === before) {
      patch(ix);
      ix.version = writeVersion(project);
    } else indexes.delete(project);
  }
  return out;
}

/** Re-reads the current label of some images into the index (after the editor wrote them). */
export function patchLabels(project: Project, ix: GridIndex, imageIds: number[]): void {
  const grid = repoOf(project.db, GridRepo);
  for (const id of imageIds) {
    const s = slot(ix, id);
    if (s < 0) continue;
    const r = grid.currentLabel(id, ix.labelSetId);
    ix.label[s] = r?.class_id ?? -1;
    if (ix.who) {
      ix.who.author[s] = r ? codeOf(ix.who.authorCodes, ix.who.authors, r.author) : -1;
      ix.who.labelledAt[s] = r?.created_at ?? '';
    }
  }
}

/** Re-reads one field's values of some images into the index. */
export function patchField(project: Project, ix: GridIndex, field: string, imageIds: number[]): void {
  const col = ix.columns.get(field);
  // A column not read yet will be read as it is now when first needed.
  if (!col?.loaded) return;
  const grid = repoOf(project.db, GridRepo);
  for (const id of imageIds) {
    const s = slot(ix, id);
    if (s < 0) continue;
    const r = grid.fieldValue(id, field);
    if (col.num) col.num[s] = r?.num ?? NaN;
    else col.code![s] = r?.text == null ? -1 : codeOf(col.codes, col.dict, r.text);
  }
  col.rank = null;
}

export interface IndexQuery {
  /** A class id, -1 for unlabelled; undefined: every image. */
  labelClass?: number;
  annotator?: string;
  search?: string;
  ids?: number[];
  filters?: FieldFilter[];
  sort?: { by: string; desc: boolean };
  /** Only the outliers of the last data-quality scan, or only images in a near-duplicate group not yet confirmed. */
  quality?: QualityFilter;
}

function column(project: Project, ix: GridIndex, name: string): Column {
  const col = ix.columns.get(name);
  if (!col) throw new DermFuseError('NOT_FOUND', `No metadata field "${name}".`);
  return load(project, ix, col);
}

/** A test per slot for one field filter. */
function predicate(project: Project, ix: GridIndex, f: FieldFilter): (s: number) => boolean {
  const col = column(project, ix, f.field);
  switch (f.kind) {
    case 'missing':
      return col.num ? (s) => Number.isNaN(col.num![s]!) : (s) => col.code![s] === -1;
    case 'range': {
      if (col.type !== 'number' && col.type !== 'ordinal')
        throw new DermFuseError('INVALID_REQUEST', `${col.name} is a ${col.type} field: filter it by values, not by a range.`);
      const lo = f.min ?? -Infinity;
      const hi = f.max ?? Infinity;
      return (s) => col.num![s]! >= lo && col.num![s]! <= hi;
    }
    case 'values': {
      if (col.num) {
        const wanted = new Set(f.values.map((v) => Number(v)));
        if ([...wanted].some((v) => !Number.isFinite(v))) throw new DermFuseError('INVALID_REQUEST', `${col.name}: filter values must be numbers.`);
        return (s) => wanted.has(col.num![s]!);
      }
      const wanted = new Set(f.values.map((v) => col.codes.get(String(v))).filter((c): c is number => c !== undefined));
      return (s) => wanted.has(col.code![s]!);
    }
    default: {
      const never: never = f;
      throw new Error(`unknown filter ${JSON.stringify(never)}`);
    }
  }
}

/** Rank of each slot's value (equal values equal rank); missing values get -1. */
function ranks(ix: GridIndex, values: (s: number) => number | string | null): Int32Array {
  const n = ix.ids.length;
  const present: number[] = [];
  for (let s = 0; s < n; s++) if (values(s) !== null) present.push(s);
  present.sort((a, b) => {
    const x = values(a)!;
    const y = values(b)!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const out = new Int32Array(n).fill(-1);
  let r = 0;
  present.forEach((s, k) => {
    if (k > 0 && values(present[k - 1]!) !== values(s)) r++;
    out[s] = r;
  });
  return out;
}

/** Per slot, a data-quality score of the last scan (outlier rank, "label next" place); -1 where there is none. */
function scoreColumn(project: Project, ix: GridIndex, which: 'outlier_rank' | 'label_next'): Int32Array {
  const out = new Int32Array(ix.ids.length).fill(-1);
  for (const r of repoOf(project.db, QualityRepo).scores()) {
    const s = slot(ix, r.image_id);
    if (s >= 0 && r[which] !== null) out[s] = r[which];
  }
  return out;
}

function sortRanks(project: Project, ix: GridIndex, by: string): Int32Array | null {
  if (by === 'id') return null;
  if (by === 'outlier') return scoreColumn(project, ix, 'outlier_rank');
  if (by === 'labelNext') return scoreColumn(project, ix, 'label_next');
  if (by === 'label') {
    const names = new Map(
      repoOf(project.db, GridRepo)
        .classesOf(ix.labelSetId)
        .map((c) => [c.id, c.name]),
    );
    return ranks(ix, (s) => (ix.label[s]! < 0 ? null : (names.get(ix.label[s]!) ?? null)));
  }
  if (by === 'annotated') {
    const who = whoOf(project, ix);
    return ranks(ix, (s) => who.labelledAt[s] || null);
  }
  const col = column(project, ix, by);
  col.rank ??= col.num
    ? ranks(ix, (s) => (Number.isNaN(col.num![s]!) ? null : col.num![s]!))
    : ranks(ix, (s) => (col.code![s]! < 0 ? null : col.dict[col.code![s]!]!));
  return col.rank;
}

function qualityTest(project: Project, ix: GridIndex, which: QualityFilter): (s: number) => boolean {
  if (which === 'outliers') {
    const rank = scoreColumn(project, ix, 'outlier_rank');
    const top = outlierCount(rank.reduce((n, r) => n + (r > 0 ? 1 : 0), 0));
    return (s) => rank[s]! > 0 && rank[s]! <= top;
  }
  const open = new Set(
    duplicateReport(project)
      .groups.filter((g) => g.status !== 'confirmed' && g.status !== 'dismissed')
      .flatMap((g) => g.members.map((m) => m.id)),
  );
  return (s) => open.has(ix.ids[s]!);
}

/** The slots matching a query, in order: filters as one pass, the sort as one numeric sort of packed keys. */
export function querySlots(project: Project, ix: GridIndex, q: IndexQuery): Int32Array {
  const n = ix.ids.length;
  const tests: ((s: number) => boolean)[] = [];
  if (q.labelClass !== undefined) tests.push((s) => ix.label[s] === q.labelClass);
  if (q.annotator !== undefined) {
    const who = whoOf(project, ix);
    const a = who.authorCodes.get(q.annotator) ?? -2;
    tests.push((s) => who.author[s] === a);
  }
  if (q.search) {
    const needle = q.search.toLowerCase();
    tests.push((s) => ix.externalIds[s]!.toLowerCase().includes(needle));
  }
  if (q.ids) {
    const wanted = new Set(q.ids);
    tests.push((s) => wanted.has(ix.ids[s]!));
  }
  for (const f of q.filters ?? []) tests.push(predicate(project, ix, f));
  if (q.quality) tests.push(qualityTest(project, ix, q.quality));
  const matched = new Int32Array(n);
  let m = 0;
  if (tests.length === 0) {
    for (let s = 0; s < n; s++) matched[s] = s;
    m = n;
  } else {
    for (let s = 0; s < n; s++) {
      let ok = true;
      for (const t of tests)
        if (!t(s)) {
          ok = false;
          break;
        }
      if (ok) matched[m++] = s;
    }
  }
  const slots = matched.subarray(0, m);
  const desc = q.sort?.desc ?? false;
  const rank = sortRanks(project, ix, q.sort?.by ?? 'id');
  if (!rank) return desc ? slots.slice().reverse() : slots.slice();
  // Key: the value's rank (reversed when descending, missing always last), then the id order: one Float64 sort.
  let maxRank = 0;
  for (const r of rank) if (r > maxRank) maxRank = r;
  const keys = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const s = slots[k]!;
    const r = rank[s]!;
    const major = r < 0 ? maxRank + 1 : desc ? maxRank - r : r;
    keys[k] = major * n + s;
  }
  keys.sort();
  const out = new Int32Array(m);
  for (let k = 0; k < m; k++) out[k] = keys[k]! % n;
  return out;
}
