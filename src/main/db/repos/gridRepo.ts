import type { Statement } from 'better-sqlite3';
import type { FieldType } from '../../../shared/types.ts';
import type { Db } from '../open.ts';

/**
 * The columns the grid index holds in typed arrays, read in bulk (raw rows, iterated: 100k images without building
 * objects), and re-read per image after an edit.
 */
export class GridRepo {
  private readonly changes: Statement<[], number>;
  private readonly readable: Statement<[], [number, string]>;
  private readonly maxId: Statement<[], number>;
  private readonly labelled: Statement<[number], [number, number]>;
  private readonly fieldList: Statement<[], { id: number; name: string; type: FieldType }>;
  private readonly authors: Statement<[number], [number, string, string]>;
  private readonly textColumn: Statement<[number], [number, string | null]>;
  private readonly numColumn: Statement<[number], [number, number | null]>;
  private readonly labelOf: Statement<[number, number], { class_id: number | null; author: string; created_at: string }>;
  private readonly valueOf: Statement<[number, string], { num: number | null; text: string | null }>;
  private readonly classNames: Statement<[number], { id: number; name: string }>;

  constructor(private readonly db: Db) {
    this.changes = db.prepare<[], number>('SELECT total_changes()').pluck();
    this.readable = db.prepare<[], [number, string]>(`SELECT id, external_id FROM images WHERE status = 'ok' ORDER BY external_id`).raw();
    this.maxId = db.prepare<[], number>('SELECT COALESCE(MAX(id), 0) FROM images').pluck();
    this.labelled = db
      .prepare<[number], [number, number]>('SELECT image_id, class_id FROM current_labels WHERE label_set_id = ? AND class_id IS NOT NULL')
      .raw();
    this.fieldList = db.prepare('SELECT id, name, type FROM fields');
    this.authors = db.prepare<[number], [number, string, string]>('SELECT image_id, author, created_at FROM current_labels WHERE label_set_id = ?').raw();
    this.textColumn = db.prepare<[number], [number, string | null]>('SELECT image_id, text FROM field_values WHERE field_id = ?').raw();
    this.numColumn = db.prepare<[number], [number, number | null]>('SELECT image_id, num FROM field_values WHERE field_id = ?').raw();
    this.labelOf = db.prepare('SELECT class_id, author, created_at FROM current_labels WHERE image_id = ? AND label_set_id = ?');
    this.valueOf = db.prepare('SELECT v.num, v.text FROM field_values v JOIN fields f ON f.id = v.field_id WHERE v.image_id = ? AND f.name = ?');
    this.classNames = db.prepare('SELECT id, name FROM classes WHERE label_set_id = ?');
  }

  /** Changes whenever anything is written to the file, by this connection or another. */
  writeVersion(): string {
    return `${this.db.pragma('data_version', { simple: true }) as number}:${this.changes.get()!}`;
  }

  /** Readable images as [id, external id], by external id. */
  readableImages(): [number, string][] {
    return this.readable.all();
  }

  /** One past the largest image id (the size of an id → slot table). */
  idBound(): number {
    return this.maxId.get()! + 1;
  }

  /** [image id, class id] of every labelled image of a set. */
  labelledImages(labelSetId: number): IterableIterator<[number, number]> {
    return this.labelled.iterate(labelSetId);
  }

  fields(): { id: number; name: string; type: FieldType }[] {
    return this.fieldList.all();
  }

  /** [image id, author, time] of every current label of a set. */
  labelAuthors(labelSetId: number): IterableIterator<[number, string, string]> {
    return this.authors.iterate(labelSetId);
  }

  /** [image id, value] of every stored value of a field, from its text or numeric column. */
  fieldColumn(fieldId: number, textual: boolean): IterableIterator<[number, number | string | null]> {
    return textual ? this.textColumn.iterate(fieldId) : this.numColumn.iterate(fieldId);
  }

  currentLabel(imageId: number, labelSetId: number): { class_id: number | null; author: string; created_at: string } | undefined {
    return this.labelOf.get(imageId, labelSetId);
  }

  fieldValue(imageId: number, field: string): { num: number | null; text: string | null } | undefined {
    return this.valueOf.get(imageId, field);
  }

  /** Every class of a set, retired ones included (old labels still name them). */
  classesOf(labelSetId: number): { id: number; name: string }[] {
    return this.classNames.all(labelSetId);
  }
}
