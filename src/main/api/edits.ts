import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue } from '../../shared/types.ts';
import { FieldsRepo, toField, type FieldRow } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';

/** What an undo puts back. */
export type UndoEntry =
  | { kind: 'label'; imageId: number; labelSetId: number; classId: number | null; unsure: boolean }
  | { kind: 'field'; imageId: number; field: string; value: FieldValue };

/** Checks a value against its field: type, range, allowed values. Returns the value to store or throws why not. */
export function validateValue(f: FieldRow, value: FieldValue): FieldValue {
  if (value === null || value === '') return null;
  const field = toField(f);
  switch (field.type) {
    case 'number':
    case 'ordinal': {
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.replace(',', '.')) : NaN;
      if (!Number.isFinite(n)) throw new DermFuseError('INVALID_VALUE', `${f.name}: "${String(value)}" is not a number.`);
      if (field.min !== null && n < field.min) throw new DermFuseError('INVALID_VALUE', `${f.name}: ${n} is below the minimum ${field.min}${field.unit ? ` ${field.unit}` : ''}.`);
      if (field.max !== null && n > field.max) throw new DermFuseError('INVALID_VALUE', `${f.name}: ${n} is above the maximum ${field.max}${field.unit ? ` ${field.unit}` : ''}.`);
      if (field.type === 'ordinal' && field.allowedValues && !field.allowedValues.includes(String(n))) {
        throw new DermFuseError('INVALID_VALUE', `${f.name}: ${n} is not one of ${field.allowedValues.join(', ')}.`);
      }
      return n;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw new DermFuseError('INVALID_VALUE', `${f.name}: choose yes or no.`);
      return value;
    case 'category': {
      const v = String(value).trim();
      if (field.allowedValues && !field.allowedValues.includes(v)) throw new DermFuseError('INVALID_VALUE', `${f.name}: "${v}" is not one of ${field.allowedValues.join(', ')}.`);
      return v;
    }
    case 'text':
      return String(value);
    default: {
      const never: never = field.type;
      throw new Error(`unknown field type ${String(never)}`);
    }
  }
}

/** Label and metadata edits by an annotator: written at once, in the history, undoable. */
export class Editor {
  private readonly undoStack: UndoEntry[] = [];

  constructor(private readonly project: Project) {}

  setLabel(imageId: number, className: string | null, unsure: boolean, author: string): void {
    const db = this.project.db;
    const labels = new LabelsRepo(db);
    const set = labels.primarySet();
    if (!set) throw new DermFuseError('NOT_FOUND', 'The project has no label set yet.');
    const classId = className === null ? null : (db.prepare('SELECT id FROM classes WHERE label_set_id = ? AND name = ?').pluck().get(set.id, className) as number | undefined);
    if (classId === undefined) throw new DermFuseError('NOT_FOUND', `No class "${className}" in label set "${set.name}".`);
    this.requireImage(imageId);
    const before = db.prepare('SELECT class_id, unsure FROM current_labels WHERE image_id = ? AND label_set_id = ?').get(imageId, set.id) as { class_id: number | null; unsure: number } | undefined;
    labels.annotate(imageId, set.id, classId, author, 'user', unsure);
    this.undoStack.push({ kind: 'label', imageId, labelSetId: set.id, classId: before?.class_id ?? null, unsure: before?.unsure === 1 });
  }

  setField(imageId: number, name: string, value: FieldValue, author: string): void {
    const fields = new FieldsRepo(this.project.db);
    const f = fields.get(name);
    if (!f) throw new DermFuseError('NOT_FOUND', `No metadata field "${name}".`);
    this.requireImage(imageId);
    const checked = validateValue(f, value);
    const before = fields.value(imageId, f)?.value ?? null;
    this.project.db.transaction(() => fields.set(imageId, f, checked, author, 'user', true))();
    this.undoStack.push({ kind: 'field', imageId, field: name, value: before });
  }

  /** Reverts the newest edit of this session by writing the old value back (the history keeps both). */
  undo(author: string): number | null {
    const e = this.undoStack.pop();
    if (!e) return null;
    if (e.kind === 'label') new LabelsRepo(this.project.db).annotate(e.imageId, e.labelSetId, e.classId, author, 'user', e.unsure);
    else {
      const fields = new FieldsRepo(this.project.db);
      this.project.db.transaction(() => fields.set(e.imageId, fields.get(e.field)!, e.value, author, 'user', true))();
    }
    return e.imageId;
  }

  private requireImage(id: number): void {
    if (!this.project.db.prepare('SELECT 1 FROM images WHERE id = ?').get(id)) throw new DermFuseError('NOT_FOUND', `No image ${id} in this project.`);
  }
}
