import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { DerivedTarget } from '../../../shared/types.ts';
import type { Db } from '../open.ts';

/** A derived target's classes are stored as a JSON array: read back through its schema, never cast. */
const TargetClasses = z.array(z.string());

/** What the label-set editor reads and writes: classes (order, colour, hotkey, retired) and derived targets. */
export class LabelSetsRepo {
  private readonly active: Statement<[number], { name: string; color: string | null; hotkey: string | null }>;
  private readonly targetRows: Statement<[number], { name: string; classes: string }>;
  private readonly everyClass: Statement<[number], { id: number; name: string }>;
  private readonly used: Statement<[number], number>;
  private readonly retireClass: Statement<[number]>;
  private readonly dropClass: Statement<[number]>;
  private readonly upsert: Statement<[number, string, string | null, string | null, number]>;
  private readonly dropTargets: Statement<[number]>;
  private readonly addTarget: Statement<[number, string, string]>;

  constructor(db: Db) {
    this.active = db.prepare('SELECT name, color, hotkey FROM classes WHERE label_set_id = ? AND retired = 0 ORDER BY position');
    this.targetRows = db.prepare('SELECT name, classes FROM derived_targets WHERE label_set_id = ? ORDER BY name');
    this.everyClass = db.prepare('SELECT id, name FROM classes WHERE label_set_id = ?');
    this.used = db.prepare<[number], number>('SELECT 1 FROM annotations WHERE class_id = ? LIMIT 1').pluck();
    this.retireClass = db.prepare('UPDATE classes SET hotkey = NULL, retired = 1 WHERE id = ?');
    this.dropClass = db.prepare('DELETE FROM classes WHERE id = ?');
    this.upsert = db.prepare(
      `INSERT INTO classes (label_set_id, name, color, hotkey, position) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (label_set_id, name) DO UPDATE SET color = excluded.color, hotkey = excluded.hotkey, position = excluded.position, retired = 0`,
    );
    this.dropTargets = db.prepare('DELETE FROM derived_targets WHERE label_set_id = ?');
    this.addTarget = db.prepare('INSERT INTO derived_targets (label_set_id, name, classes) VALUES (?, ?, ?)');
  }

  /** The set's classes in order (retired ones left out). */
  activeClasses(labelSetId: number): { name: string; color: string | null; hotkey: string | null }[] {
    return this.active.all(labelSetId);
  }

  targets(labelSetId: number): DerivedTarget[] {
    return this.targetRows.all(labelSetId).map((t) => ({ name: t.name, classes: TargetClasses.parse(JSON.parse(t.classes)) }));
  }

  /** Every class of the set, retired ones included. */
  allClasses(labelSetId: number): { id: number; name: string }[] {
    return this.everyClass.all(labelSetId);
  }

  /**
   * Removes a class from the set: deleted when no annotation ever named it, else retired (kept for the history, out
   * of every list). Call inside the editor's transaction.
   */
  remove(classId: number): void {
    if (this.used.get(classId) !== undefined) this.retireClass.run(classId);
    else this.dropClass.run(classId);
  }

  /** Adds a class or updates it (and brings it back if retired). */
  put(labelSetId: number, name: string, color: string | null, hotkey: string | null, position: number): void {
    this.upsert.run(labelSetId, name, color, hotkey, position);
  }

  /** Replaces the set's derived targets. */
  setTargets(labelSetId: number, targets: DerivedTarget[]): void {
    this.dropTargets.run(labelSetId);
    for (const t of targets) this.addTarget.run(labelSetId, t.name, JSON.stringify(t.classes));
  }
}
