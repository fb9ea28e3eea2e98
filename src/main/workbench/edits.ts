import { DermFuseError } from '../../shared/errors.ts';
import type { FieldValue } from '../../shared/types.ts';
import { FieldsRepo, toField, type FieldRow } from '../db/repos/fieldsRepo.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import { editThrough, patchField, patchLabels } from './gridIndex.ts';
import { repoOf, writeTransaction } from '../db/open.ts';

/**
 * What an undo puts back. In a team an undo withdraws the person's own annotation (`withdraw`), so the label that
 * was current before it is current again, whoever gave it; alone, it writes the previous label back (`label`).
 */
export type UndoEntry =
  | { kind: 'label'; imageId: number; labelSetId: number; classId: number | null; unsure: boolean }
  | { kind: 'withdraw'; imageId: number; annotationId: number }
  | { kind: 'field'; imageId: number; field: string; value: FieldValue; editId: number };

/** Each person's undo history keeps this many edits (a batch counts once); older ones can no longer be undone. */
const UNDO_DEPTH = 1000;

/** Undo entries are batches: one key press undoes a whole multi-select edit. */
type UndoBatch = UndoEntry[];

/** Checks a value against its field: type, range, allowed values. Returns the value to store or throws why not. */
export function validateValue(f: FieldRow, value: FieldValue): FieldValue {
  if (value === null || value === '') return null;
  const field = toField(f);
  switch (field.type) {
    case 'number':
    case 'ordinal': {
      const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.replace(',', '.')) : NaN;
      if (!Number.isFinite(n)) throw new DermFuseError('INVALID_VALUE', `${f.name}: "${String(value)}" is not a number.`);
      if (field.min !== null && n < field.min)
        throw new DermFuseError('INVALID_VALUE', `${f.name}: ${n} is below the minimum ${field.min}${field.unit ? ` ${field.unit}` : ''}.`);
      if (field.max !== null && n > field.max)
        throw new DermFuseError('INVALID_VALUE', `${f.name}: ${n} is above the maximum ${field.max}${field.unit ? ` ${field.unit}` : ''}.`);
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
      if (field.allowedValues && !field.allowedValues.includes(v))
        throw new DermFuseError('INVALID_VALUE', `${f.name}: "${v}" is not one of ${field.allowedValues.join(', ')}.`);
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
  private readonly undoStack: UndoBatch[] = [];

  /**
   * @param team asked at each edit: in a team (the project has accounts) undo withdraws this person's own annotation
   *   (the image's previous label may be someone else's or the import's, which must neither be written under this
   *   person's name nor lose its place) and leaves a metadata value someone else has changed since; alone, undo
   *   writes the previous label or value back.
   */
  constructor(
    private readonly project: Project,
    private readonly team: () => boolean = () => false,
  ) {}

  /** `undoable: false` for a label that is a decision recorded elsewhere too (an adjudication): Ctrl+Z leaves it. */
  setLabel(imageId: number, className: string | null, unsure: boolean, author: string, undoable = true): void {
    this.setLabels([imageId], className, unsure, author, undoable);
  }

  /** Sets one label on many images in one transaction; undone as one. Images already so labelled are left alone. */
  setLabels(ids: number[], className: string | null, unsure: boolean, author: string, undoable = true): number {
    // A repeated id is one edit (a batch of 100,000 copies of a few ids would only cost the server time).
    const imageIds = [...new Set(ids)];
    const team = this.team();
    const db = this.project.db;
    const labels = repoOf(db, LabelsRepo);
    const set = labels.primarySet();
    if (!set) throw new DermFuseError('NOT_FOUND', 'The project has no label set yet.');
    const classId = className === null ? null : labels.classId(set.id, className);
    if (classId === undefined) throw new DermFuseError('NOT_FOUND', `No class "${className}" in label set "${set.name}".`);
    this.requireImages(imageIds);
    const batch: UndoBatch = [];
    editThrough(
      this.project,
      () =>
        writeTransaction(db, () => {
          for (const imageId of imageIds) {
            const before = labels.current(imageId, set.id);
            // A single edit is always written (it may only toggle "unsure"); a batch skips images it would not change.
            if (imageIds.length > 1 && before && before.class_id === classId && (before.unsure === 1) === unsure) continue;
            const annotationId = labels.annotate(imageId, set.id, classId, author, 'user', unsure);
            batch.push(
              team
                ? { kind: 'withdraw', imageId, annotationId }
                : { kind: 'label', imageId, labelSetId: set.id, classId: before?.class_id ?? null, unsure: before?.unsure === 1 },
            );
          }
        })(),
      (ix) =>
        patchLabels(
          this.project,
          ix,
          batch.map((e) => e.imageId),
        ),
    );
    if (batch.length > 0 && undoable) this.remember(batch);
    return batch.length;
  }

  setField(imageId: number, name: string, value: FieldValue, author: string): void {
    this.setFields([imageId], name, value, author);
  }

  /** Sets one metadata value on many images: checked once against the field, written in one transaction, undone as one. */
  setFields(ids: number[], name: string, value: FieldValue, author: string): number {
    const imageIds = [...new Set(ids)];
    const fields = repoOf(this.project.db, FieldsRepo);
    const f = fields.get(name);
    if (!f) throw new DermFuseError('NOT_FOUND', `No metadata field "${name}".`);
    this.requireImages(imageIds);
    const checked = validateValue(f, value);
    const batch: UndoBatch = [];
    editThrough(
      this.project,
      () =>
        writeTransaction(this.project.db, () => {
          for (const imageId of imageIds) {
            const before = fields.value(imageId, f)?.value ?? null;
            if (imageIds.length > 1 && before === checked) continue;
            const editId = fields.set(imageId, f, checked, author, 'user', true);
            batch.push({ kind: 'field', imageId, field: name, value: before, editId });
          }
        })(),
      (ix) =>
        patchField(
          this.project,
          ix,
          name,
          batch.map((e) => e.imageId),
        ),
    );
    if (batch.length > 0) this.remember(batch);
    return batch.length;
  }

  private remember(batch: UndoBatch): void {
    this.undoStack.push(batch);
    if (this.undoStack.length > UNDO_DEPTH) this.undoStack.shift();
  }

  /** Reverts the newest edit of this session (a batch as a whole) by writing the old values back; the history keeps both. */
  undo(author: string): { imageIds: number[]; kind: 'label' | 'field'; field: string | null } | null {
    const batch = this.undoStack.pop();
    if (!batch) return null;
    const team = this.team();
    const db = this.project.db;
    const labels = repoOf(db, LabelsRepo);
    const fields = repoOf(db, FieldsRepo);
    editThrough(
      this.project,
      () =>
        writeTransaction(db, () => {
          for (const e of [...batch].reverse()) {
            if (e.kind === 'label') labels.annotate(e.imageId, e.labelSetId, e.classId, author, 'user', e.unsure);
            else if (e.kind === 'withdraw') labels.withdraw(e.annotationId, author);
            else {
              const f = fields.get(e.field)!;
              // In a team, a value someone else has set since stays: this undo takes back only this person's edit.
              if (team && fields.lastEditId(e.imageId, f) !== e.editId) continue;
              fields.set(e.imageId, f, e.value, author, 'user', true);
            }
          }
        })(),
      (ix) => {
        patchLabels(
          this.project,
          ix,
          batch.filter((e) => e.kind !== 'field').map((e) => e.imageId),
        );
        for (const e of batch) if (e.kind === 'field') patchField(this.project, ix, e.field, [e.imageId]);
      },
    );
    const field = batch.find((e) => e.kind === 'field');
    return { imageIds: batch.map((e) => e.imageId), kind: field ? 'field' : 'label', field: field?.kind === 'field' ? field.field : null };
  }

  private requireImages(ids: number[]): void {
    const missing = repoOf(this.project.db, ImagesRepo).firstUnknown(ids);
    if (missing !== undefined) throw new DermFuseError('NOT_FOUND', `No image ${missing} in this project.`);
  }
}
