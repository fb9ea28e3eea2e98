import { DermFuseError } from '../../shared/errors.ts';
import type { BrowseCounts, BrowseFacets, FieldFilter, FieldSummary, FieldValue, ImageDetail, ImageList } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { gridIndex, querySlots, type GridIndex } from './gridIndex.ts';
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

/**
 * Results of recent queries as ordered id lists, valid while nothing was written to the project: scrolling pages
 * through a result is then a slice and a lookup of 200 rows.
 */
interface CachedResult {
  version: string;
  /** Slots of the grid index, in order. */
  slots: Int32Array;
}
const RESULT_CACHE_SIZE = 8;
const resultCache = new WeakMap<Project, Map<string, CachedResult>>();

/** The index slots matching a query, in order. */
function orderedSlots(project: Project, q: ListQuery, ix: GridIndex): Int32Array {
  // undefined (every label) and null (unlabelled) must not share a key: JSON would write both as null.
  const key = JSON.stringify([
    q.label === undefined ? { every: true } : q.label,
    q.search ?? '',
    q.annotator ?? { anyone: true },
    q.filters ?? [],
    q.ids ?? { all: true },
    q.sort ?? null,
  ]);
  let cache = resultCache.get(project);
  if (!cache) resultCache.set(project, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.version === ix.version) return hit.slots;
  let labelClass: number | undefined;
  if (q.label === null) labelClass = -1;
  else if (q.label !== undefined)
    labelClass =
      (project.db.prepare('SELECT id FROM classes WHERE label_set_id = ? AND name = ?').pluck().get(ix.labelSetId, q.label) as number | undefined) ?? -2;
  const slots = querySlots(project, ix, { labelClass, annotator: q.annotator, search: q.search, ids: q.ids, filters: q.filters, sort: q.sort });
  cache.delete(key);
  cache.set(key, { version: ix.version, slots });
  while (cache.size > RESULT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return slots;
}

/** All readable images, unlabelled ones and the count per class: independent of the filter, a pass over the index. */
function projectCounts(project: Project, ix: GridIndex): Omit<BrowseCounts, 'total'> {
  const perClass = new Map<number, number>();
  let unlabelled = 0;
  for (const c of ix.label) {
    if (c < 0) unlabelled++;
    else perClass.set(c, (perClass.get(c) ?? 0) + 1);
  }
  const classes = project.db
    .prepare('SELECT id, name, hotkey, color FROM classes WHERE label_set_id = ? AND retired = 0 ORDER BY position')
    .all(ix.labelSetId) as { id: number; name: string; hotkey: string | null; color: string | null }[];
  return { all: ix.ids.length, unlabelled, classes: classes.map((c) => ({ name: c.name, hotkey: c.hotkey, color: c.color, count: perClass.get(c.id) ?? 0 })) };
}

/** A page of the grid: filter by label, annotator, id text, any metadata field; sort by any field; counts on the first page. */
export function listImages(project: Project, q: ListQuery): ImageList {
  const db = project.db;
  const ix = gridIndex(project);
  const slots = orderedSlots(project, q, ix);
  const page = Array.from(slots.subarray(q.offset, q.offset + q.limit), (slot) => ix.ids[slot]!);
  const rows = db
    .prepare(
      `SELECT i.id, i.external_id, c.name AS label, COALESCE(l.unsure, 0) AS unsure, s.label AS s_label, s.probability AS s_p
       FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ? LEFT JOIN classes c ON c.id = l.class_id
       LEFT JOIN suggestions s ON s.image_id = i.id WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(ix.labelSetId, JSON.stringify(page)) as {
    id: number;
    external_id: string;
    label: string | null;
    unsure: number;
    s_label: string | null;
    s_p: number | null;
  }[];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items = page.map((id) => {
    const r = byId.get(id)!;
    return {
      id: r.id,
      externalId: r.external_id,
      label: r.label,
      unsure: r.unsure === 1,
      suggestion: r.s_label ? { label: r.s_label, probability: r.s_p! } : null,
    };
  });
  if (!(q.counts ?? q.offset === 0)) return { offset: q.offset, items, counts: null };
  return { offset: q.offset, items, counts: { total: slots.length, ...projectCounts(project, ix) } };
}

/** Values to filter on: per field, the observed values (categories, ordinals, booleans) or range (numbers), and missing. */
export function browseFacets(project: Project): BrowseFacets {
  const db = project.db;
  const all = db.prepare(`SELECT COUNT(*) FROM images WHERE status = 'ok'`).pluck().get() as number;
  const fields = new FieldsRepo(db).list();
  const out: FieldSummary[] = fields.map((f) => {
    const present = db
      .prepare(`SELECT COUNT(*) FROM field_values v JOIN images i ON i.id = v.image_id AND i.status = 'ok' WHERE v.field_id = ?`)
      .pluck()
      .get(f.id) as number;
    const range = db.prepare('SELECT MIN(num) AS min, MAX(num) AS max FROM field_values WHERE field_id = ?').get(f.id) as {
      min: number | null;
      max: number | null;
    };
    const col = f.type === 'category' || f.type === 'text' ? 'text' : 'num';
    const values =
      f.type === 'number'
        ? []
        : (
            db
              .prepare(
                `SELECT v.${col} AS value, COUNT(*) AS count FROM field_values v JOIN images i ON i.id = v.image_id AND i.status = 'ok' WHERE v.field_id = ? GROUP BY v.${col} ORDER BY count DESC LIMIT 200`,
              )
              .all(f.id) as { value: string | number; count: number }[]
          ).map((r) => ({
            value: f.type === 'boolean' ? r.value === 1 : r.value,
            count: r.count,
          }));
    return { name: f.name, type: f.type, unit: f.unit, missing: all - present, min: range.min, max: range.max, values };
  });
  const setId = new LabelsRepo(db).primarySet()?.id ?? -1;
  const annotators = db
    .prepare(`SELECT author AS name, COUNT(*) AS count FROM current_labels WHERE label_set_id = ? GROUP BY author ORDER BY count DESC`)
    .all(setId) as { name: string; count: number }[];
  return { fields: out, annotators };
}

export function imageDetail(project: Project, id: number): ImageDetail {
  const db = project.db;
  const row = db
    .prepare(
      `SELECT i.id, i.external_id, i.width, i.height, i.patient_id, i.lesion_id, p.external_id AS patient, le.external_id AS lesion
       FROM images i LEFT JOIN patients p ON p.id = i.patient_id LEFT JOIN lesions le ON le.id = i.lesion_id WHERE i.id = ?`,
    )
    .get(id) as
    | {
        id: number;
        external_id: string;
        width: number | null;
        height: number | null;
        patient_id: number | null;
        lesion_id: number | null;
        patient: string | null;
        lesion: string | null;
      }
    | undefined;
  if (!row) throw new DermFuseError('NOT_FOUND', `No image ${id} in this project.`);
  const set = new LabelsRepo(db).primarySet();
  const history = set
    ? (db
        .prepare(
          `SELECT c.name AS label, a.unsure, a.author, a.source, a.created_at AS at FROM annotations a LEFT JOIN classes c ON c.id = a.class_id WHERE a.image_id = ? AND a.label_set_id = ? ORDER BY a.id DESC`,
        )
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
