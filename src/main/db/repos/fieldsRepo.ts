import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { jsonColumn } from '../json.ts';
import type { Field, FieldSpec, FieldType, FieldValue } from '../../../shared/types.ts';
import type { Db } from '../open.ts';

export interface FieldRow {
  id: number;
  name: string;
  type: FieldType;
  allowed_values: string | null;
  unit: string | null;
  min: number | null;
  max: number | null;
  missing_allowed: number;
  position: number;
  display_name: string | null;
}

const AllowedValues = z.array(z.string());

/** A field's allowed values, as stored (a JSON list of strings). */
function allowedValues(r: FieldRow): string[] {
  return jsonColumn(r.allowed_values!, AllowedValues, `Field ${r.name}: its stored allowed values`);
}

export function toField(r: FieldRow): Field {
  return {
    name: r.name,
    type: r.type,
    allowedValues: r.allowed_values ? allowedValues(r) : null,
    unit: r.unit,
    min: r.min,
    max: r.max,
    missingAllowed: r.missing_allowed === 1,
    displayName: r.display_name,
  };
}

/** Stored form of a typed value: numbers, ordinals and booleans in `num`, strings in `text`. */
export function encodeValue(type: FieldType, v: Exclude<FieldValue, null>): { num: number | null; text: string | null } {
  if (type === 'boolean') return { num: v ? 1 : 0, text: null };
  if (type === 'number' || type === 'ordinal') return { num: Number(v), text: null };
  return { num: null, text: String(v) };
}

export function decodeValue(type: FieldType, num: number | null, text: string | null): FieldValue {
  if (type === 'boolean') return num === null ? null : num !== 0;
  if (type === 'number' || type === 'ordinal') return num;
  return text;
}

/** The metadata schema and the per-image typed values, with an edit trail. */
export class FieldsRepo {
  private readonly all: Statement<[], FieldRow>;
  private readonly byName: Statement<[string], FieldRow>;
  private readonly nextPosition: Statement<[], number>;
  private readonly insert: Statement<[string, string, string | null, string | null, number | null, number | null, number]>;
  private readonly setAllowed: Statement<[string | null, number]>;
  private readonly setDisplay: Statement<[string | null, number]>;
  private readonly getValue: Statement<[number, number], { num: number | null; text: string | null; source: string }>;
  private readonly imageValues: Statement<[number], { field_id: number; num: number | null; text: string | null }>;
  private readonly putValue: Statement<[number, number, number | null, string | null, string, string]>;
  private readonly delValue: Statement<[number, number]>;
  private readonly lastEdit: Statement<[number, number], number>;
  private readonly addEdit: Statement<[number, number, string | null, string | null, string, string, string]>;

  constructor(private readonly db: Db) {
    this.all = db.prepare('SELECT * FROM fields ORDER BY position');
    this.byName = db.prepare('SELECT * FROM fields WHERE name = ?');
    this.nextPosition = db.prepare<[], number>('SELECT COALESCE(MAX(position) + 1, 0) FROM fields').pluck();
    this.insert = db.prepare(`INSERT INTO fields (name, type, allowed_values, unit, min, max, position) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.setAllowed = db.prepare('UPDATE fields SET allowed_values = ? WHERE id = ?');
    this.setDisplay = db.prepare('UPDATE fields SET display_name = ? WHERE id = ?');
    this.getValue = db.prepare('SELECT num, text, source FROM field_values WHERE image_id = ? AND field_id = ?');
    this.imageValues = db.prepare('SELECT field_id, num, text FROM field_values WHERE image_id = ?');
    this.putValue = db.prepare(
      `INSERT INTO field_values (image_id, field_id, num, text, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (image_id, field_id) DO UPDATE SET num = excluded.num, text = excluded.text,
         source = excluded.source, updated_at = excluded.updated_at`,
    );
    this.delValue = db.prepare('DELETE FROM field_values WHERE image_id = ? AND field_id = ?');
    this.lastEdit = db.prepare<[number, number], number>('SELECT MAX(id) FROM field_edits WHERE image_id = ? AND field_id = ?').pluck();
    this.addEdit = db.prepare(`INSERT INTO field_edits (image_id, field_id, old_value, new_value, author, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  }

  list(): FieldRow[] {
    return this.all.all();
  }

  get(name: string): FieldRow | undefined {
    return this.byName.get(name);
  }

  /**
   * Adds a field, or returns the existing one; the stored type wins over a newly inferred one (a project keeps
   * one schema) and allowed values are widened with the new ones.
   */
  ensure(spec: FieldSpec): FieldRow {
    const existing = this.byName.get(spec.name);
    if (!existing) {
      // Read once, then counted here: a 10,000-column CSV would otherwise scan the whole schema per new field.
      // Read each time: another connection (a CLI import next to the window) may have added fields since.
      const position = this.nextPosition.get()!;
      this.insert.run(spec.name, spec.type, spec.allowedValues ? JSON.stringify(spec.allowedValues) : null, spec.unit, spec.min, spec.max, position);
      return this.byName.get(spec.name)!;
    }
    if (existing.allowed_values && spec.allowedValues && existing.type === spec.type) {
      const old = allowedValues(existing);
      const merged = [...new Set([...old, ...spec.allowedValues])];
      if (existing.type === 'ordinal') merged.sort((a, b) => Number(a) - Number(b));
      else merged.sort();
      if (merged.length !== old.length) {
        this.setAllowed.run(JSON.stringify(merged), existing.id);
        return this.byName.get(spec.name)!;
      }
    }
    return existing;
  }

  /** Names a field on the screens (null or blank: by its name again). */
  rename(field: FieldRow, displayName: string | null): void {
    const shown = displayName?.trim() || null;
    this.setDisplay.run(shown === field.name ? null : shown, field.id);
  }

  value(imageId: number, field: FieldRow): { value: FieldValue; source: string } | null {
    const r = this.getValue.get(imageId, field.id);
    return r ? { value: decodeValue(field.type, r.num, r.text), source: r.source } : null;
  }

  /** The stored values of one image, by field id. */
  valuesOf(imageId: number): { field_id: number; num: number | null; text: string | null }[] {
    return this.imageValues.all(imageId);
  }

  /**
   * Typed metadata of each image, one row per image in `fields` order; null where a value is missing, and for a
   * field the project does not have (undefined). One query per image.
   */
  rows(imageIds: readonly number[], fields: readonly (FieldRow | undefined)[]): FieldValue[][] {
    return imageIds.map((id) => {
      const byField = new Map(this.imageValues.all(id).map((v) => [v.field_id, v]));
      return fields.map((f) => {
        const v = f && byField.get(f.id);
        return f && v ? decodeValue(f.type, v.num, v.text) : null;
      });
    });
  }

  /** Sets (or clears, with null) a value and records the change with who and when. Call inside a transaction. */
  /** The newest edit of an image's field (0: none). */
  lastEditId(imageId: number, field: FieldRow): number {
    return this.lastEdit.get(imageId, field.id) ?? 0;
  }

  /** Stores a value; with `recordEdit`, also in the edit history, and returns that edit's id (else 0). */
  set(imageId: number, field: FieldRow, value: FieldValue, author: string, source: 'import' | 'user', recordEdit: boolean): number {
    const now = new Date().toISOString();
    const old = recordEdit ? this.value(imageId, field) : null;
    if (value === null) this.delValue.run(imageId, field.id);
    else {
      const { num, text } = encodeValue(field.type, value);
      this.putValue.run(imageId, field.id, num, text, source, now);
    }
    if (!recordEdit) return 0;
    return Number(this.addEdit.run(imageId, field.id, JSON.stringify(old?.value ?? null), JSON.stringify(value), author, source, now).lastInsertRowid);
  }
}
