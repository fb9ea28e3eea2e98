import { DermFuseError } from '../../shared/errors.ts';
import type { BrowseCounts, BrowseFacets, FieldFilter, FieldSummary, FieldValue, ImageDetail, ImageList } from '../../shared/types.ts';
import { FieldsRepo, toField, type FieldRow } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';

export interface ListQuery {
  label?: string | null;
  search?: string;
  annotator?: string;
  filters?: FieldFilter[];
  ids?: number[];
  sort?: { by: string; desc: boolean };
  counts?: boolean;
  offset: number;
  limit: number;
}

interface Where {
  joins: string[];
  where: string[];
  params: unknown[];
}

function fieldRow(fields: FieldsRepo, name: string): FieldRow {
  const f = fields.get(name);
  if (!f) throw new DermFuseError('NOT_FOUND', `No metadata field "${name}".`);
  return f;
}

/** The SQL condition of one field filter; every one runs on the (field_id, num|text) indexes. */
function fieldCondition(f: FieldRow, filter: FieldFilter, params: unknown[]): string {
  switch (filter.kind) {
    case 'missing':
      params.push(f.id);
      return 'i.id NOT IN (SELECT image_id FROM field_values WHERE field_id = ?)';
    case 'range': {
      if (f.type !== 'number' && f.type !== 'ordinal') throw new DermFuseError('INVALID_REQUEST', `${f.name} is a ${f.type} field: filter it by values, not by a range.`);
      params.push(f.id, filter.min ?? -Infinity, filter.max ?? Infinity);
      return 'i.id IN (SELECT image_id FROM field_values WHERE field_id = ? AND num >= ? AND num <= ?)';
    }
    case 'values': {
      const numeric = f.type !== 'category' && f.type !== 'text';
      const values = filter.values.map((v) => (numeric ? (typeof v === 'boolean' ? Number(v) : Number(v)) : String(v)));
      if (numeric && values.some((v) => !Number.isFinite(v))) throw new DermFuseError('INVALID_REQUEST', `${f.name}: filter values must be numbers.`);
      params.push(f.id, ...values);
      return `i.id IN (SELECT image_id FROM field_values WHERE field_id = ? AND ${numeric ? 'num' : 'text'} IN (${values.map(() => '?').join(', ')}))`;
    }
    default: {
      const never: never = filter;
      throw new Error(`unknown filter ${JSON.stringify(never)}`);
    }
  }
}

/** Everything but paging and sorting: shared by the count and the page query. */
function whereOf(project: Project, q: ListQuery, setId: number): Where {
  const fields = new FieldsRepo(project.db);
  const w: Where = { joins: [], where: [`i.status = 'ok'`], params: [] };
  if (q.label === null) w.where.push('l.class_id IS NULL');
  else if (q.label !== undefined) {
    const classId = project.db.prepare('SELECT id FROM classes WHERE label_set_id = ? AND name = ?').pluck().get(setId, q.label);
    w.where.push('l.class_id = ?');
    w.params.push(classId ?? -1);
  }
  if (q.annotator !== undefined) {
    w.where.push('l.author = ?');
    w.params.push(q.annotator);
  }
  if (q.search) {
    w.where.push(`i.external_id LIKE ? ESCAPE '\\'`);
    w.params.push(`%${q.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  }
  if (q.ids) {
    w.where.push(`i.id IN (SELECT value FROM json_each(?))`);
    w.params.push(JSON.stringify(q.ids));
  }
  for (const filter of q.filters ?? []) w.where.push(fieldCondition(fieldRow(fields, filter.field), filter, w.params));
  return w;
}

/** ORDER BY for the sorts SQL does itself (fields are sorted by walking their index). Ties break on the id. */
function orderOf(sort: ListQuery['sort']): string {
  const dir = sort?.desc ? 'DESC' : 'ASC';
  const by = sort?.by ?? 'id';
  if (by === 'label') return `c.name IS NULL, c.name ${dir}, i.external_id`;
  if (by === 'annotated') return `l.created_at IS NULL, l.created_at ${dir}, i.external_id`;
  return `i.external_id ${dir}`;
}

/**
 * Results of recent queries as ordered id lists, valid while nothing was written to the project: scrolling pages
 * through a result is then a slice and a lookup of 200 rows, not a new filter and sort of every image.
 */
interface CachedResult {
  version: string;
  ids: number[];
}
const RESULT_CACHE_SIZE = 8;
const resultCache = new WeakMap<Project, Map<string, CachedResult>>();
const countCache = new WeakMap<Project, { version: string; counts: Omit<BrowseCounts, 'total'> }>();

/** Changes whenever anything is written to the file, by this connection or another. */
function writeVersion(project: Project): string {
  const data = project.db.pragma('data_version', { simple: true }) as number;
  const own = project.db.prepare('SELECT total_changes()').pluck().get() as number;
  return `${data}:${own}`;
}

/** The ids matching a query, in order: one narrow query (joins only when the filter or sort needs them). */
function orderedIds(project: Project, q: ListQuery, setId: number, version: string): number[] {
  // undefined (every label) and null (unlabelled) must not share a key: JSON would write both as null.
  const key = JSON.stringify([q.label === undefined ? { every: true } : q.label, q.search ?? '', q.annotator ?? { anyone: true }, q.filters ?? [], q.ids ?? { all: true }, q.sort ?? null]);
  let cache = resultCache.get(project);
  if (!cache) resultCache.set(project, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.version === version) return hit.ids;
  const w = whereOf(project, q, setId);
  const by = q.sort?.by ?? 'id';
  const byField = by !== 'id' && by !== 'label' && by !== 'annotated';
  const needsLabels = q.label !== undefined || q.annotator !== undefined || by === 'label' || by === 'annotated';
  const labelJoin = needsLabels ? `LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ${Number(setId)} LEFT JOIN classes c ON c.id = l.class_id` : '';
  let ids: number[];
  if (byField) {
    // Sorting by a field walks that field's (field_id, value) index in order and keeps the matching images: much
    // cheaper than joining and sorting every image. Ties break on the import order; missing values come last.
    const f = fieldRow(new FieldsRepo(project.db), by);
    const col = f.type === 'category' || f.type === 'text' ? 'text' : 'num';
    const matching = new Set(project.db.prepare(`SELECT i.id FROM images i ${labelJoin} WHERE ${w.where.join(' AND ')}`).pluck().all(...w.params) as number[]);
    const sorted = project.db.prepare(`SELECT image_id FROM field_values WHERE field_id = ? ORDER BY ${col} ${q.sort!.desc ? 'DESC' : 'ASC'}, image_id`).pluck().all(f.id) as number[];
    ids = [];
    for (const id of sorted) if (matching.delete(id)) ids.push(id);
    ids.push(...[...matching].sort((a, b) => a - b));
  } else {
    const order = orderOf(q.sort);
    ids = project.db.prepare(`SELECT i.id FROM images i ${labelJoin} WHERE ${w.where.join(' AND ')} ORDER BY ${order}`).pluck().all(...w.params) as number[];
  }
  cache.delete(key);
  cache.set(key, { version, ids });
  while (cache.size > RESULT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return ids;
}

/** All readable images, unlabelled ones and the count per class: independent of the filter, cached until a write. */
function projectCounts(project: Project, setId: number, version: string): Omit<BrowseCounts, 'total'> {
  const cached = countCache.get(project);
  if (cached && cached.version === version) return cached.counts;
  const db = project.db;
  const all = db.prepare(`SELECT COUNT(*) FROM images WHERE status = 'ok'`).pluck().get() as number;
  // Counted on the (label set, class) index, minus the few labelled images that could not be read.
  const perClass = new Map((db.prepare(`SELECT class_id AS id, COUNT(*) AS n FROM current_labels WHERE label_set_id = ? AND class_id IS NOT NULL GROUP BY class_id`).all(setId) as { id: number; n: number }[]).map((r) => [r.id, r.n]));
  for (const r of db.prepare(`SELECT class_id AS id, COUNT(*) AS n FROM current_labels WHERE label_set_id = ? AND class_id IS NOT NULL AND image_id IN (SELECT id FROM images WHERE status = 'error') GROUP BY class_id`).all(setId) as { id: number; n: number }[]) {
    perClass.set(r.id, (perClass.get(r.id) ?? 0) - r.n);
  }
  const labelled = [...perClass.values()].reduce((a, b) => a + b, 0);
  const classes = db.prepare('SELECT id, name, hotkey, color FROM classes WHERE label_set_id = ? AND retired = 0 ORDER BY position').all(setId) as { id: number; name: string; hotkey: string | null; color: string | null }[];
  const counts = { all, unlabelled: all - labelled, classes: classes.map((c) => ({ name: c.name, hotkey: c.hotkey, color: c.color, count: perClass.get(c.id) ?? 0 })) };
  countCache.set(project, { version, counts });
  return counts;
}

/** A page of the grid: filter by label, annotator, id text, any metadata field; sort by any field; counts on the first page. */
export function listImages(project: Project, q: ListQuery): ImageList {
  const db = project.db;
  const setId = new LabelsRepo(db).primarySet()?.id ?? -1;
  const version = writeVersion(project);
  const ids = orderedIds(project, q, setId, version);
  const page = ids.slice(q.offset, q.offset + q.limit);
  const rows = db
    .prepare(
      `SELECT i.id, i.external_id, c.name AS label, COALESCE(l.unsure, 0) AS unsure, s.label AS s_label, s.probability AS s_p
       FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ? LEFT JOIN classes c ON c.id = l.class_id
       LEFT JOIN suggestions s ON s.image_id = i.id WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(setId, JSON.stringify(page)) as { id: number; external_id: string; label: string | null; unsure: number; s_label: string | null; s_p: number | null }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items = page.map((id) => {
    const r = byId.get(id)!;
    return { id: r.id, externalId: r.external_id, label: r.label, unsure: r.unsure === 1, suggestion: r.s_label ? { label: r.s_label, probability: r.s_p! } : null };
  });
  if (!(q.counts ?? q.offset === 0)) return { offset: q.offset, items, counts: null };
  return { offset: q.offset, items, counts: { total: ids.length, ...projectCounts(project, setId, version) } };
}

/** Values to filter on: per field, the observed values (categories, ordinals, booleans) or range (numbers), and missing. */
export function browseFacets(project: Project): BrowseFacets {
  const db = project.db;
  const all = db.prepare(`SELECT COUNT(*) FROM images WHERE status = 'ok'`).pluck().get() as number;
  const fields = new FieldsRepo(db).list();
  const out: FieldSummary[] = fields.map((f) => {
    const present = db.prepare(`SELECT COUNT(*) FROM field_values v JOIN images i ON i.id = v.image_id AND i.status = 'ok' WHERE v.field_id = ?`).pluck().get(f.id) as number;
    const range = db.prepare('SELECT MIN(num) AS min, MAX(num) AS max FROM field_values WHERE field_id = ?').get(f.id) as { min: number | null; max: number | null };
    const col = f.type === 'category' || f.type === 'text' ? 'text' : 'num';
    const values =
      f.type === 'number'
        ? []
        : (db.prepare(`SELECT v.${col} AS value, COUNT(*) AS count FROM field_values v JOIN images i ON i.id = v.image_id AND i.status = 'ok' WHERE v.field_id = ? GROUP BY v.${col} ORDER BY count DESC LIMIT 200`).all(f.id) as { value: string | number; count: number }[]).map((r) => ({
            value: f.type === 'boolean' ? r.value === 1 : r.value,
            count: r.count,
          }));
    return { name: f.name, type: f.type, unit: f.unit, missing: all - present, min: range.min, max: range.max, values };
  });
  const setId = new LabelsRepo(db).primarySet()?.id ?? -1;
  const annotators = db.prepare(`SELECT author AS name, COUNT(*) AS count FROM current_labels WHERE label_set_id = ? GROUP BY author ORDER BY count DESC`).all(setId) as { name: string; count: number }[];
  return { fields: out, annotators };
}

export function imageDetail(project: Project, id: number): ImageDetail {
  const db = project.db;
  const row = db
    .prepare(
      `SELECT i.id, i.external_id, i.width, i.height, i.patient_id, i.lesion_id, p.external_id AS patient, le.external_id AS lesion
       FROM images i LEFT JOIN patients p ON p.id = i.patient_id LEFT JOIN lesions le ON le.id = i.lesion_id WHERE i.id = ?`,
    )
    .get(id) as { id: number; external_id: string; width: number | null; height: number | null; patient_id: number | null; lesion_id: number | null; patient: string | null; lesion: string | null } | undefined;
  if (!row) throw new DermFuseError('NOT_FOUND', `No image ${id} in this project.`);
  const set = new LabelsRepo(db).primarySet();
  const history = set
    ? (db
        .prepare(`SELECT c.name AS label, a.unsure, a.author, a.source, a.created_at AS at FROM annotations a LEFT JOIN classes c ON c.id = a.class_id WHERE a.image_id = ? AND a.label_set_id = ? ORDER BY a.id DESC`)
        .all(id, set.id) as { label: string | null; unsure: number; author: string; source: string; at: string }[])
    : [];
  const fieldsRepo = new FieldsRepo(db);
  const fields = fieldsRepo.list();
  const metadata: Record<string, FieldValue> = {};
  for (const f of fields) metadata[f.name] = fieldsRepo.value(id, f)?.value ?? null;
  const related = (col: 'lesion_id' | 'patient_id', v: number | null) =>
    v === null ? [] : (db.prepare(`SELECT id FROM images WHERE ${col} = ? AND id <> ? AND status = 'ok' ORDER BY id LIMIT 50`).pluck().all(v, id) as number[]);
  const current = history[0];
  const s = db.prepare('SELECT label, probability FROM suggestions WHERE image_id = ?').get(id) as { label: string; probability: number } | undefined;
  return {
    suggestion: s ? { label: s.label, probability: s.probability } : null,
    id: row.id,
    externalId: row.external_id,
    label: current?.label ?? null,
    unsure: current?.unsure === 1,
    width: row.width,
    height: row.height,
    patient: row.patient,
    lesion: row.lesion,
    metadata,
    fields: fields.map(toField),
    history: history.map((h) => ({ label: h.label, unsure: h.unsure === 1, author: h.author, source: h.source, at: h.at })),
    sameLesion: related('lesion_id', row.lesion_id),
    samePatient: related('patient_id', row.patient_id),
  };
}

