import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

export interface GridItemRow {
  id: number;
  external_id: string;
  label: string | null;
  unsure: number;
  s_label: string | null;
  s_p: number | null;
}

export interface ImageHeaderRow {
  id: number;
  external_id: string;
  width: number | null;
  height: number | null;
  patient_id: number | null;
  lesion_id: number | null;
  patient: string | null;
  lesion: string | null;
}

export interface HistoryRow {
  label: string | null;
  unsure: number;
  author: string;
  source: string;
  at: string;
  /** When its author withdrew it (a team member's undo); it no longer counts. */
  withdrawn_at: string | null;
}

/** What the browser reads: grid pages, the filter panel's facets, and one image's detail. */
import type { FieldEdit } from '../../../shared/types.ts';

export class BrowseRepo {
  private readonly classRows: Statement<[number], { id: number; name: string; hotkey: string | null; color: string | null }>;
  private readonly items: Statement<[number, string], GridItemRow>;
  private readonly readable: Statement<[], number>;
  private readonly present: Statement<[number], number>;
  private readonly range: Statement<[number], { min: number | null; max: number | null }>;
  private readonly textCounts: Statement<[number], { value: string; count: number }>;
  private readonly numCounts: Statement<[number], { value: number; count: number }>;
  private readonly authors: Statement<[number], { name: string; count: number }>;
  private readonly header: Statement<[number], ImageHeaderRow>;
  private readonly history: Statement<[number, number], HistoryRow>;
  private readonly fieldHistory: Statement<[number], FieldEdit>;
  private readonly sameLesion: Statement<[number, number], number>;
  private readonly samePatient: Statement<[number, number], number>;
  private readonly suggestion: Statement<[number], { label: string; probability: number }>;

  constructor(db: Db) {
    this.classRows = db.prepare('SELECT id, name, hotkey, color FROM classes WHERE label_set_id = ? AND retired = 0 ORDER BY position');
    this.items = db.prepare(
      `SELECT i.id, i.external_id, c.name AS label, COALESCE(l.unsure, 0) AS unsure, s.label AS s_label, s.probability AS s_p
       FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ? LEFT JOIN classes c ON c.id = l.class_id
       LEFT JOIN suggestions s ON s.image_id = i.id WHERE i.id IN (SELECT value FROM json_each(?))`,
    );
    this.readable = db.prepare<[], number>(`SELECT COUNT(*) FROM images WHERE status = 'ok'`).pluck();
    this.present = db
      .prepare<[number], number>(`SELECT COUNT(*) FROM field_values v JOIN images i ON i.id = v.image_id AND i.status = 'ok' WHERE v.field_id = ?`)
      .pluck();
    this.range = db.prepare('SELECT MIN(num) AS min, MAX(num) AS max FROM field_values WHERE field_id = ?');
    const counts = (col: 'text' | 'num') =>
      `SELECT v.${col} AS value, COUNT(*) AS count FROM field_values v JOIN images i ON i.id = v.image_id AND i.status = 'ok' WHERE v.field_id = ? GROUP BY v.${col} ORDER BY count DESC LIMIT 200`;
    this.textCounts = db.prepare(counts('text'));
    this.numCounts = db.prepare(counts('num'));
    this.authors = db.prepare(`SELECT author AS name, COUNT(*) AS count FROM current_labels WHERE label_set_id = ? GROUP BY author ORDER BY count DESC`);
    this.header = db.prepare(
      `SELECT i.id, i.external_id, i.width, i.height, i.patient_id, i.lesion_id, p.external_id AS patient, le.external_id AS lesion
       FROM images i LEFT JOIN patients p ON p.id = i.patient_id LEFT JOIN lesions le ON le.id = i.lesion_id WHERE i.id = ?`,
    );
    this.history = db.prepare(
      `SELECT c.name AS label, a.unsure, a.author, a.source, a.created_at AS at, a.withdrawn_at FROM annotations a LEFT JOIN classes c ON c.id = a.class_id WHERE a.image_id = ? AND a.label_set_id = ? ORDER BY a.id DESC`,
    );
    this.fieldHistory = db.prepare(
      `SELECT f.name AS field, e.old_value AS before, e.new_value AS after, e.author, e.source, e.created_at AS at FROM field_edits e JOIN fields f ON f.id = e.field_id WHERE e.image_id = ? ORDER BY e.id DESC LIMIT 200`,
    );
    const related = (col: 'lesion_id' | 'patient_id') =>
      db.prepare<[number, number], number>(`SELECT id FROM images WHERE ${col} = ? AND id <> ? AND status = 'ok' ORDER BY id LIMIT 50`).pluck();
    this.sameLesion = related('lesion_id');
    this.samePatient = related('patient_id');
    this.suggestion = db.prepare('SELECT label, probability FROM suggestions WHERE image_id = ?');
  }

  /** The set's classes in order, with hotkeys and colours (retired ones left out). */
  classes(labelSetId: number): { id: number; name: string; hotkey: string | null; color: string | null }[] {
    return this.classRows.all(labelSetId);
  }

  /** Label, unsure flag and suggestion of the given images (any order). */
  gridItems(labelSetId: number, ids: number[]): GridItemRow[] {
    return this.items.all(labelSetId, JSON.stringify(ids));
  }

  readableImages(): number {
    return this.readable.get()!;
  }

  /** How many readable images have a value for the field, and its numeric range. */
  fieldPresence(fieldId: number): { present: number; min: number | null; max: number | null } {
    return { present: this.present.get(fieldId)!, ...this.range.get(fieldId)! };
  }

  /** The field's most frequent values among readable images (at most 200), text or numeric column. */
  valueCounts(fieldId: number, column: 'text' | 'num'): { value: string | number; count: number }[] {
    return column === 'text' ? this.textCounts.all(fieldId) : this.numCounts.all(fieldId);
  }

  /** Who set the current labels of a set, most labels first. */
  annotators(labelSetId: number): { name: string; count: number }[] {
    return this.authors.all(labelSetId);
  }

  imageHeader(id: number): ImageHeaderRow | undefined {
    return this.header.get(id);
  }

  /** An image's annotations in a set, newest first. */
  labelHistory(imageId: number, labelSetId: number): HistoryRow[] {
    return this.history.all(imageId, labelSetId);
  }

  /** An image's metadata edits, newest first (the latest 200). */
  metadataHistory(imageId: number): FieldEdit[] {
    return this.fieldHistory.all(imageId);
  }

  /** Other readable images of the same lesion or patient (at most 50). */
  related(kind: 'lesion' | 'patient', groupId: number, imageId: number): number[] {
    return (kind === 'lesion' ? this.sameLesion : this.samePatient).all(groupId, imageId);
  }

  suggestionOf(imageId: number): { label: string; probability: number } | undefined {
    return this.suggestion.get(imageId);
  }
}
