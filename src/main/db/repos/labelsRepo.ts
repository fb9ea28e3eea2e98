import { isMalignantName, paletteColor } from '../../../shared/palette.ts';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../open.ts';
import { groupExpression } from './runsRepo.ts';
import type { GroupBy } from '../../../shared/jobs.ts';

export interface LabelSetRow {
  id: number;
  name: string;
  is_primary: number;
}

export interface LabelledImage {
  id: number;
  external_id: string;
  path: string;
  sha256: string;
  label: string;
  grp: string;
}

export type AnnotationSource = 'import' | 'user' | 'model';

/** Label sets, their classes and the append-only annotation history. */
export class LabelsRepo {
  private readonly setByName: Statement<[string], LabelSetRow>;
  private readonly primary: Statement<[], LabelSetRow>;
  private readonly insertSet: Statement<[string, number, string]>;
  private readonly classByName: Statement<[number, string], { id: number }>;
  private readonly classCount: Statement<[number], { n: number }>;
  private readonly classNames: Statement<[number], string>;
  private readonly insertClass: Statement<[number, string, number, string, number, string | null, string | null]>;
  private readonly lastImport: Statement<[number, number], { class_id: number | null }>;
  private readonly insertAnnotation: Statement<[number, number, number | null, number, string, string, string]>;
  private readonly counts: Statement<[number], { name: string; n: number }>;
  private readonly currentOf: Statement<[number, number], { class_id: number | null; unsure: number }>;
  private readonly lastAnnotation: Statement<[number], number>;
  private readonly labelledCount: Statement<[number], number>;
  private readonly sameBytesOtherLabel: Statement<[number], { sha256: string; pairs: string }>;
  private readonly names: Statement<[], string>;
  private readonly marks: Statement<[], { maxAnnotationId: number; maxFieldEditId: number }>;
  private readonly withdrawStmt: Statement<[string, number, string]>;

  constructor(private readonly db: Db) {
    this.setByName = db.prepare('SELECT id, name, is_primary FROM label_sets WHERE name = ?');
    this.primary = db.prepare('SELECT id, name, is_primary FROM label_sets ORDER BY is_primary DESC, id LIMIT 1');
    this.insertSet = db.prepare('INSERT INTO label_sets (name, is_primary, created_at) VALUES (?, ?, ?)');
    this.classByName = db.prepare('SELECT id FROM classes WHERE label_set_id = ? AND name = ?');
    this.classCount = db.prepare('SELECT COUNT(*) AS n FROM classes WHERE label_set_id = ?');
    this.classNames = db.prepare<[number], string>('SELECT name FROM classes WHERE label_set_id = ? ORDER BY position').pluck();
    // Number keys 1-9 follow the class order until the label-set editor sets others (a key already taken is skipped).
    this.insertClass = db.prepare(
      `INSERT INTO classes (label_set_id, name, position, color, hotkey) VALUES (?, ?, ?, ?,
         CASE WHEN NOT EXISTS (SELECT 1 FROM classes WHERE label_set_id = ? AND hotkey = ?) THEN ? END)`,
    );
    this.lastImport = db.prepare(`SELECT class_id FROM annotations WHERE image_id = ? AND label_set_id = ? AND source = 'import' ORDER BY id DESC LIMIT 1`);
    this.insertAnnotation = db.prepare(
      `INSERT INTO annotations (image_id, label_set_id, class_id, unsure, author, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.names = db.prepare<[], string>('SELECT name FROM label_sets').pluck();
    this.marks = db.prepare(
      'SELECT (SELECT COALESCE(MAX(id), 0) FROM annotations) AS maxAnnotationId, (SELECT COALESCE(MAX(id), 0) FROM field_edits) AS maxFieldEditId',
    );
    this.currentOf = db.prepare('SELECT class_id, unsure FROM current_labels WHERE image_id = ? AND label_set_id = ?');
    this.withdrawStmt = db.prepare(`UPDATE annotations SET withdrawn_at = ? WHERE id = ? AND author = ? AND withdrawn_at IS NULL`);
    this.lastAnnotation = db.prepare<[number], number>('SELECT MAX(id) FROM annotations WHERE image_id = ?').pluck();
    this.labelledCount = db
      .prepare<[number], number>(
        `SELECT COUNT(*) FROM current_labels l JOIN images i ON i.id = l.image_id WHERE l.label_set_id = ? AND l.class_id IS NOT NULL AND i.status = 'ok'`,
      )
      .pluck();
    this.sameBytesOtherLabel = db.prepare(
      `SELECT i.sha256, group_concat(i.external_id || '=' || c.name, ', ') AS pairs
       FROM images i JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
       JOIN classes c ON c.id = l.class_id
       WHERE i.status = 'ok'
       GROUP BY i.sha256 HAVING COUNT(DISTINCT l.class_id) > 1`,
    );
    this.counts = db.prepare(
      `SELECT c.name, (SELECT COUNT(*) FROM current_labels l JOIN images i ON i.id = l.image_id
                        WHERE l.label_set_id = c.label_set_id AND l.class_id = c.id AND i.status = 'ok') AS n
       FROM classes c WHERE c.label_set_id = ? AND c.retired = 0 ORDER BY c.position`,
    );
  }

  primarySet(): LabelSetRow | undefined {
    return this.primary.get();
  }

  /** The label set of that name, created if new; the first one a project gets is its primary label. */
  ensureSet(name: string): LabelSetRow {
    const existing = this.setByName.get(name);
    if (existing) return existing;
    this.insertSet.run(name, this.primary.get() ? 0 : 1, new Date().toISOString());
    return this.setByName.get(name)!;
  }

  ensureClass(labelSetId: number, name: string): number {
    const found = this.classByName.get(labelSetId, name);
    if (found) return found.id;
    const position = this.classCount.get(labelSetId)!.n;
    const key = position < 9 ? String(position + 1) : null;
    // The next colour of the class's group (cancers warm, others cool), so two cancers do not share a colour.
    const inGroup = this.classNames.all(labelSetId).filter((n) => isMalignantName(n) === isMalignantName(name)).length;
    return Number(this.insertClass.run(labelSetId, name, position, paletteColor(inGroup, name), labelSetId, key, key).lastInsertRowid);
  }

  /** Every class name of a set, in its order. */
  classNamesOf(labelSetId: number): string[] {
    return this.classNames.all(labelSetId);
  }

  /** The class the last import gave this image (undefined: never imported; null: imported without label). */
  lastImportedClass(imageId: number, labelSetId: number): number | null | undefined {
    return this.lastImport.get(imageId, labelSetId)?.class_id;
  }

  /** Appends an annotation; returns its id. */
  annotate(imageId: number, labelSetId: number, classId: number | null, author: string, source: AnnotationSource, unsure = false): number {
    return Number(this.insertAnnotation.run(imageId, labelSetId, classId, unsure ? 1 : 0, author, source, new Date().toISOString()).lastInsertRowid);
  }

  /**
   * Withdraws an author's own annotation (a team member's undo): it stays in the history, marked, and the image's
   * current label becomes the newest annotation not withdrawn (a trigger keeps `current_labels`). False when the
   * annotation is not this author's or was withdrawn already.
   */
  withdraw(annotationId: number, author: string): boolean {
    return this.withdrawStmt.run(new Date().toISOString(), annotationId, author).changes > 0;
  }

  /** The id of a class of a set by name; undefined when the set has no such class. */
  classId(labelSetId: number, name: string): number | undefined {
    return this.classByName.get(labelSetId, name)?.id;
  }

  /** An image's current label in a set (undefined: never labelled). */
  current(imageId: number, labelSetId: number): { class_id: number | null; unsure: number } | undefined {
    return this.currentOf.get(imageId, labelSetId);
  }

  /** The newest annotation of an image (a review points at the annotation it made or kept). */
  lastAnnotationId(imageId: number): number {
    return this.lastAnnotation.get(imageId)!;
  }

  /** Readable images with a label in the set. */
  labelled(labelSetId: number): number {
    return this.labelledCount.get(labelSetId)!;
  }

  /** Byte-identical images (same SHA-256) whose current labels differ, with their "id=label" pairs. */
  conflictingCopies(labelSetId: number): { sha256: string; pairs: string }[] {
    return this.sameBytesOtherLabel.all(labelSetId);
  }

  /** A label set by name. */
  setNamed(name: string): LabelSetRow | undefined {
    return this.setByName.get(name);
  }

  /** Every label set's name. */
  setNames(): string[] {
    return this.names.all();
  }

  /**
   * Readable images labelled in a set, with their class name and cross-validation group (patient, else lesion, else
   * the image), ordered by image id text (the same folds in every project) or by row id.
   */
  labelledImages(labelSetId: number, group: GroupBy, order: 'external_id' | 'id'): LabelledImage[] {
    return this.db
      .prepare(
        `SELECT i.id, i.external_id, i.path, i.sha256, c.name AS label, ${groupExpression(group)} AS grp
         FROM images i JOIN current_labels l ON l.image_id = i.id AND l.label_set_id = ?
         JOIN classes c ON c.id = l.class_id
         LEFT JOIN patients p ON p.id = i.patient_id LEFT JOIN lesions le ON le.id = i.lesion_id
         WHERE i.status = 'ok' ORDER BY ${order === 'id' ? 'i.id' : 'i.external_id'}`,
      )
      .all(labelSetId) as LabelledImage[];
  }

  /** The newest annotation and metadata edit ids: what a training run saw. */
  editMarks(): { maxAnnotationId: number; maxFieldEditId: number } {
    return this.marks.get()!;
  }

  /** Current label counts per class of a label set, over readable images. */
  classCounts(labelSetId: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.counts.all(labelSetId)) out[r.name] = r.n;
    return out;
  }
}
