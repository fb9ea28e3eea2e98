import { DermFuseError } from '../../shared/errors.ts';
import type { DerivedTarget, Field, LabelClass, LabelSetInfo } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { LabelsRepo, type LabelSetRow } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import { repoOf, writeTransaction } from '../db/open.ts';
import { LabelSetsRepo } from '../db/repos/labelSetsRepo.ts';

/** Keys the browser uses for something else: a class cannot take them. */
const RESERVED_KEYS = new Set(['u', 'a', ' ']);

export interface LabelSetEdit {
  classes: { name: string; color: string | null; hotkey: string | null }[];
  targets: DerivedTarget[];
}

function primary(project: Project): LabelSetRow {
  const set = repoOf(project.db, LabelsRepo).primarySet();
  if (!set) throw new DermFuseError('NOT_FOUND', 'The project has no label set yet: import labels or add classes first.');
  return set;
}

/** A label set by name, or the primary one; a clear error when there is none. */
export function chosenLabelSet(project: Project, name?: string): LabelSetRow {
  if (!name) return primary(project);
  const set = repoOf(project.db, LabelsRepo).setNamed(name);
  if (!set) throw new DermFuseError('NOT_FOUND', `No label set "${name}" (the label sets are: ${repoOf(project.db, LabelsRepo).setNames().join(', ')}).`);
  return set;
}

/** The primary label set with its classes (colour, hotkey, current count) and derived targets. */
export function labelSetInfo(project: Project, name?: string): LabelSetInfo {
  const db = project.db;
  const set = chosenLabelSet(project, name);
  const counts = repoOf(db, LabelsRepo).classCounts(set.id);
  const sets = repoOf(db, LabelSetsRepo);
  const classes: LabelClass[] = sets.activeClasses(set.id).map((c) => ({ ...c, count: counts[c.name] ?? 0 }));
  return { name: set.name, classes, targets: sets.targets(set.id) };
}

/** Checks an edit of the label set; throws naming the class, key or target at fault. */
function check(edit: LabelSetEdit, existing: LabelClass[]): void {
  const names = new Set<string>();
  const keys = new Map<string, string>();
  for (const c of edit.classes) {
    if (names.has(c.name)) throw new DermFuseError('INVALID_VALUE', `Class "${c.name}" appears twice.`);
    names.add(c.name);
    if (c.hotkey === null) continue;
    const key = c.hotkey.toLowerCase();
    if (RESERVED_KEYS.has(key))
      throw new DermFuseError('INVALID_VALUE', `Class "${c.name}": the key "${c.hotkey}" is taken by the browser (U unsure, A accept a suggestion).`);
    if (keys.has(key)) throw new DermFuseError('INVALID_VALUE', `Classes "${keys.get(key)}" and "${c.name}" both use the key "${c.hotkey}".`);
    keys.set(key, c.name);
  }
  for (const old of existing) {
    if (!names.has(old.name) && old.count > 0)
      throw new DermFuseError('INVALID_VALUE', `Class "${old.name}" labels ${old.count} images: relabel them before removing it.`);
  }
  const targetNames = new Set<string>();
  for (const t of edit.targets) {
    if (targetNames.has(t.name)) throw new DermFuseError('INVALID_VALUE', `Target "${t.name}" appears twice.`);
    targetNames.add(t.name);
    if (names.has(t.name)) throw new DermFuseError('INVALID_VALUE', `Target "${t.name}" has the name of a class.`);
    const unknown = t.classes.filter((c) => !names.has(c));
    if (unknown.length > 0) throw new DermFuseError('INVALID_VALUE', `Target "${t.name}": no class ${unknown.join(', ')}.`);
    if (t.classes.length >= names.size) throw new DermFuseError('INVALID_VALUE', `Target "${t.name}" takes every class: leave at least one out.`);
  }
}

/** Saves the label-set editor in one transaction: order, colours, hotkeys, new and removed (unused) classes, targets. */
export function saveLabelSet(project: Project, edit: LabelSetEdit): LabelSetInfo {
  const db = project.db;
  const set = primary(project);
  check(edit, labelSetInfo(project).classes);
  writeTransaction(db, () => {
    const keep = new Set(edit.classes.map((c) => c.name));
    const sets = repoOf(db, LabelSetsRepo);
    for (const c of sets.allClasses(set.id)) if (!keep.has(c.name)) sets.remove(c.id);
    edit.classes.forEach((c, i) => sets.put(set.id, c.name, c.color, c.hotkey, i));
    sets.setTargets(set.id, edit.targets);
  })();
  return labelSetInfo(project);
}

/** The positive classes of a derived target of a label set (for training "malignant" vs the rest). */
export function targetClasses(project: Project, labelSet: string, target: string): string[] {
  const info = labelSetInfo(project, labelSet);
  const t = info.targets.find((x) => x.name === target);
  if (!t)
    throw new DermFuseError(
      'NOT_FOUND',
      `Label set "${labelSet}" has no target "${target}". Targets: ${info.targets.map((x) => x.name).join(', ') || 'none (define them in the label-set editor)'}.`,
    );
  return t.classes;
}

/** Names a field on the screens; its stored name (used by filters, runs and the CLI) is unchanged. */
export function renameField(project: Project, name: string, displayName: string | null): Field[] {
  const fields = repoOf(project.db, FieldsRepo);
  const field = fields.get(name);
  if (!field) throw new DermFuseError('NOT_FOUND', `field: the project has no field "${name}".`);
  // Two fields shown alike would be told apart by nobody (a case panel listing "diameter" twice).
  const shown = displayName?.trim().toLocaleLowerCase();
  const twin = shown ? fields.list().find((f) => f.id !== field.id && [f.name, f.display_name].some((n) => n?.toLocaleLowerCase() === shown)) : undefined;
  if (twin)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `displayName: "${displayName!.trim()}" is what the field "${twin.name}" is called already: choose another name for "${name}".`,
    );
  fields.rename(field, displayName);
  return fields.list().map(toField);
}
