import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue, ImageDetail, ImageList } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';

export interface ListQuery {
  label?: string | null;
  search?: string;
  offset: number;
  limit: number;
}

/** A page of the grid: filter by label (or unlabelled) and id text; counts for the status line. */
export function listImages(project: Project, q: ListQuery): ImageList {
  const db = project.db;
  const set = new LabelsRepo(db).primarySet();
  const setId = set?.id ?? -1;
  const where: string[] = [`i.status = 'ok'`];
  const params: unknown[] = [setId];
  if (q.label === null) where.push('l.class_id IS NULL');
  else if (q.label !== undefined) {
    where.push('c.name = ?');
    params.push(q.label);
  }
  if (q.search) {
    where.push(`i.external_id LIKE ? ESCAPE '\\'`);
    params.push(`%${q.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  }
  const from = `FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ? LEFT JOIN classes c ON c.id = l.class_id WHERE ${where.join(' AND ')}`;
  const total = db.prepare(`SELECT COUNT(*) ${from}`).pluck().get(...params) as number;
  const items = (
    db
      .prepare(
        `SELECT i.id, i.external_id, c.name AS label, COALESCE(l.unsure, 0) AS unsure, s.label AS s_label, s.probability AS s_p
         ${from.replace('WHERE', 'LEFT JOIN suggestions s ON s.image_id = i.id WHERE')} ORDER BY i.external_id LIMIT ? OFFSET ?`,
      )
      .all(...params, q.limit, q.offset) as { id: number; external_id: string; label: string | null; unsure: number; s_label: string | null; s_p: number | null }[]
  ).map((r) => ({ id: r.id, externalId: r.external_id, label: r.label, unsure: r.unsure === 1, suggestion: r.s_label ? { label: r.s_label, probability: r.s_p! } : null }));
  const all = db.prepare(`SELECT COUNT(*) FROM images WHERE status = 'ok'`).pluck().get() as number;
  const labelled = set
    ? (db.prepare(`SELECT COUNT(*) FROM current_labels l JOIN images i ON i.id = l.image_id WHERE l.label_set_id = ? AND l.class_id IS NOT NULL AND i.status = 'ok'`).pluck().get(setId) as number)
    : 0;
  const counts = set ? new LabelsRepo(db).classCounts(setId) : {};
  const hotkeys = db.prepare('SELECT name, hotkey FROM classes WHERE label_set_id = ? ORDER BY position').all(setId) as { name: string; hotkey: string | null }[];
  return {
    total,
    all,
    unlabelled: all - labelled,
    offset: q.offset,
    items,
    // Number keys 1-9 follow the class order unless the label-set editor set others.
    classes: hotkeys.map((h, i) => ({ name: h.name, hotkey: h.hotkey ?? (i < 9 ? String(i + 1) : null), count: counts[h.name] ?? 0 })),
  };
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

