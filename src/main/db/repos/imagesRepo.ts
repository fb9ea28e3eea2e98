import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';

export interface ImageRow {
  id: number;
  external_id: string;
  path: string;
  sha256: string | null;
  bytes: number;
  mtime_ms: number;
  width: number | null;
  height: number | null;
  format: string | null;
  thumb: string | null;
  status: 'ok' | 'error';
  error: string | null;
  patient_id: number | null;
  lesion_id: number | null;
}

export type ImageWrite = Omit<ImageRow, 'id' | 'patient_id' | 'lesion_id'>;

/** Images with their patients and lesions. */
export class ImagesRepo {
  private readonly byExternal: Statement<[string], ImageRow>;
  private readonly byIdStmt: Statement<[number], ImageRow>;
  private readonly insert: Statement<Record<string, unknown>>;
  private readonly update: Statement<Record<string, unknown>>;
  private readonly setLinks: Statement<[number | null, number | null, number]>;
  private readonly patientByExt: Statement<[string], { id: number }>;
  private readonly insertPatient: Statement<[string]>;
  private readonly lesionByExt: Statement<[string], { id: number; patient_id: number | null }>;
  private readonly insertLesion: Statement<[string, number | null]>;
  private readonly setLesionPatient: Statement<[number, number]>;
  private readonly all: Statement<[], ImageRow>;
  private readonly readableFiles: Statement<[number], { path: string; thumb: string | null }>;
  private readonly countIn: Statement<[string], number>;
  private readonly unlabelledIn: Statement<[number], { id: number; external_id: string; path: string }>;
  private readonly contents: Statement<[], { sha256: string; path: string }>;
  private readonly exists: Statement<[number], number>;
  private readonly movePath: Statement<[string, number, string, number]>;
  private readonly countBy: Statement<[], { ok: number; failed: number; patients: number; lesions: number }>;
  private readonly exportList: Statement<[number], { id: number; external_id: string; patient: string | null; lesion: string | null; label: string | null }>;

  constructor(db: Db) {
    this.byExternal = db.prepare('SELECT * FROM images WHERE external_id = ?');
    this.byIdStmt = db.prepare('SELECT * FROM images WHERE id = ?');
    this.readableFiles = db.prepare(`SELECT path, thumb FROM images WHERE id = ? AND status = 'ok'`);
    this.unlabelledIn = db.prepare(
      `SELECT i.id, i.external_id, i.path FROM images i LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
       WHERE i.status = 'ok' AND l.class_id IS NULL ORDER BY i.id`,
    );
    this.contents = db.prepare(`SELECT sha256, MIN(path) AS path FROM images WHERE status = 'ok' GROUP BY sha256 ORDER BY MIN(id)`);
    this.countIn = db.prepare<[string], number>('SELECT COUNT(*) FROM images WHERE id IN (SELECT DISTINCT value FROM json_each(?))').pluck();
    this.exists = db.prepare<[number], number>('SELECT 1 FROM images WHERE id = ?').pluck();
    this.movePath = db.prepare('UPDATE images SET path = ?, mtime_ms = ?, updated_at = ? WHERE id = ?');
    this.countBy = db.prepare(
      `SELECT COUNT(*) FILTER (WHERE status = 'ok') AS ok, COUNT(*) FILTER (WHERE status = 'error') AS failed,
              COUNT(DISTINCT patient_id) FILTER (WHERE status = 'ok') AS patients, COUNT(DISTINCT lesion_id) FILTER (WHERE status = 'ok') AS lesions
       FROM images`,
    );
    this.exportList = db.prepare(
      `SELECT i.id, i.external_id, p.external_id AS patient, le.external_id AS lesion, c.name AS label
       FROM images i
       LEFT JOIN patients p ON p.id = i.patient_id
       LEFT JOIN lesions le ON le.id = i.lesion_id
       LEFT JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
       LEFT JOIN classes c ON c.id = l.class_id
       ORDER BY i.external_id`,
    );
    this.insert = db.prepare(
      `INSERT INTO images (external_id, path, sha256, bytes, mtime_ms, width, height, format, thumb, status, error, created_at, updated_at)
       VALUES (@external_id, @path, @sha256, @bytes, @mtime_ms, @width, @height, @format, @thumb, @status, @error, @now, @now)`,
    );
    this.update = db.prepare(
      `UPDATE images SET path = @path, sha256 = @sha256, bytes = @bytes, mtime_ms = @mtime_ms, width = @width,
         height = @height, format = @format, thumb = @thumb, status = @status, error = @error, updated_at = @now
       WHERE external_id = @external_id`,
    );
    this.setLinks = db.prepare('UPDATE images SET patient_id = ?, lesion_id = ? WHERE id = ?');
    this.patientByExt = db.prepare('SELECT id FROM patients WHERE external_id = ?');
    this.insertPatient = db.prepare('INSERT INTO patients (external_id) VALUES (?)');
    this.lesionByExt = db.prepare('SELECT id, patient_id FROM lesions WHERE external_id = ?');
    this.insertLesion = db.prepare('INSERT INTO lesions (external_id, patient_id) VALUES (?, ?)');
    this.setLesionPatient = db.prepare('UPDATE lesions SET patient_id = ? WHERE id = ?');
    this.all = db.prepare('SELECT * FROM images ORDER BY id');
  }

  /** Readable images without a label in the set, by id. */
  unlabelled(labelSetId: number): { id: number; external_id: string; path: string }[] {
    return this.unlabelledIn.all(labelSetId);
  }

  /** One file per distinct content (byte-identical copies share their features), in import order. */
  distinctContents(): { sha256: string; path: string }[] {
    return this.contents.all();
  }

  /** The first of `ids` that names no image, or undefined when all do. */
  firstUnknown(ids: number[]): number | undefined {
    if (this.countIn.get(JSON.stringify(ids)) === new Set(ids).size) return undefined;
    return ids.find((id) => this.exists.get(id) === undefined);
  }

  /** Records that an image's file moved (relink); its content was checked to be the same. */
  moved(id: number, path: string, mtimeMs: number): void {
    this.movePath.run(path, mtimeMs, new Date().toISOString(), id);
  }

  /** Readable and unreadable images, and the patients and lesions of the readable ones. */
  counts(): { ok: number; failed: number; patients: number; lesions: number } {
    return this.countBy.get()!;
  }

  /** Every image with its patient, lesion and current label in a set, by image id: what export-csv writes. */
  exportRows(labelSetId: number): { id: number; external_id: string; patient: string | null; lesion: string | null; label: string | null }[] {
    return this.exportList.all(labelSetId);
  }

  /** The file and thumbnail of a readable image; undefined when there is no such image or it could not be read. */
  readableFile(id: number): { path: string; thumb: string | null } | undefined {
    return this.readableFiles.get(id);
  }

  byId(id: number): ImageRow | undefined {
    return this.byIdStmt.get(id);
  }

  byExternalId(externalId: string): ImageRow | undefined {
    return this.byExternal.get(externalId);
  }

  list(): ImageRow[] {
    return this.all.all();
  }

  /** Inserts or updates the image of that external id and returns its row id. */
  upsert(w: ImageWrite): number {
    const params = { ...w, now: new Date().toISOString() };
    const existing = this.byExternal.get(w.external_id);
    if (existing) {
      this.update.run(params);
      return existing.id;
    }
    return Number(this.insert.run(params).lastInsertRowid);
  }

  /**
   * Links an image to its patient and lesion (created when new). Returns a problem message when the data
   * contradicts itself (a lesion already recorded for another patient); the first recorded patient is kept.
   */
  link(imageId: number, patientExt: string | null, lesionExt: string | null): string | null {
    let patientId: number | null = null;
    if (patientExt !== null) {
      patientId = this.patientByExt.get(patientExt)?.id ?? Number(this.insertPatient.run(patientExt).lastInsertRowid);
    }
    let lesionId: number | null = null;
    let problem: string | null = null;
    if (lesionExt !== null) {
      const lesion = this.lesionByExt.get(lesionExt);
      if (!lesion) lesionId = Number(this.insertLesion.run(lesionExt, patientId).lastInsertRowid);
      else {
        lesionId = lesion.id;
        if (lesion.patient_id === null && patientId !== null) this.setLesionPatient.run(patientId, lesion.id);
        else if (patientId !== null && lesion.patient_id !== patientId) {
          problem = `lesion id ${lesionExt} is also used for another patient; the image keeps patient ${patientExt}, the lesion keeps its first patient`;
        }
      }
    }
    this.setLinks.run(patientId, lesionId, imageId);
    return problem;
  }
}
