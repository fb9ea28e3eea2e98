import fs from 'node:fs';
import path from 'node:path';
import { DermFuseError } from '../../shared/errors.ts';
import type { ImportSummary } from '../../shared/types.ts';
import { makeDirs } from '../files/fsChecks.ts';
import type { ProgressFn } from '../jobs/progress.ts';
import { rngFrom } from '../ml/stats/random.ts';
import { Project } from '../project.ts';
import { resourcesDir } from '../resources.ts';
import { parseCsv } from '../files/csv.ts';
import { planImport } from './importPlan.ts';
import { runImport } from './importRun.ts';
import { repoOf } from '../db/open.ts';
import { FieldsRepo } from '../db/repos/fieldsRepo.ts';

/** What the sample's screens call PAD-UFES-20's columns (its CSV spells them as its authors did). */
const SAMPLE_FIELD_NAMES: Record<string, string> = {
  age: 'Age',
  gender: 'Sex',
  region: 'Body site',
  fitspatrick: 'Fitzpatrick skin type',
  diameter_1: 'Diameter 1',
  diameter_2: 'Diameter 2',
  smoke: 'Smokes',
  drink: 'Drinks alcohol',
  background_father: "Father's origin",
  background_mother: "Mother's origin",
  pesticide: 'Pesticide exposure',
  skin_cancer_history: 'Skin cancer history',
  cancer_history: 'Cancer history',
  has_piped_water: 'Piped water at home',
  has_sewage_system: 'Sewage system at home',
  itch: 'Itches',
  grew: 'Grew',
  hurt: 'Hurts',
  changed: 'Changed',
  bleed: 'Bleeds',
  elevation: 'Raised',
  biopsed: 'Biopsy-proven',
};

/** Diagnoses held back from the sample's import, so a newcomer has images to label. */
export const SAMPLE_HELD_BACK = 12;
const LABEL_COLUMN = 'diagnostic';
const SAMPLE_LICENCE_FILE = 'SAMPLE-DATA-LICENCE.md';

export interface SampleSummary extends ImportSummary {
  dir: string;
  heldBack: number;
}

/** True when `dir` holds a sample project made by createSampleProject (its licence file beside the database). */
export function isSampleProject(dir: string): boolean {
  return Project.exists(dir) && fs.existsSync(path.join(dir, SAMPLE_LICENCE_FILE));
}

/** Where a sample is created when no folder is named: ./dermfuse-sample. */
export function defaultSampleDir(): string {
  return path.resolve('dermfuse-sample');
}

/**
 * Creates a project in `dir` from the PAD-UFES-20 sample shipped in resources/sample/: the photos are copied into
 * the project's `sample-images/`, the metadata (with SAMPLE_HELD_BACK diagnoses blanked, chosen by a fixed seed)
 * imported with the PAD preset, and the dataset's licence and citation written beside it. Refuses a folder that
 * already holds a project or other files.
 */
export async function createSampleProject(dir: string, opts: { signal?: AbortSignal; onProgress?: ProgressFn } = {}): Promise<SampleSummary> {
  const abs = path.resolve(dir);
  const images = path.join(abs, 'sample-images');
  // A sample whose creation was interrupted (no licence file yet) is completed; anything else is left alone.
  const interrupted = Project.exists(abs) && fs.existsSync(images) && !isSampleProject(abs);
  if (!interrupted) {
    if (Project.exists(abs)) throw new DermFuseError('INVALID_ARGUMENT', `${abs} already holds a project: open it, or choose a new folder for the sample.`);
    if (fs.existsSync(abs) && (!fs.statSync(abs).isDirectory() || fs.readdirSync(abs).length > 0)) {
      throw new DermFuseError('INVALID_ARGUMENT', `${abs} is not empty: choose a new folder for the sample.`);
    }
  }
  const source = path.join(resourcesDir(), 'sample');
  makeDirs(images, 'sample folder');
  for (const f of fs.readdirSync(path.join(source, 'images'))) fs.copyFileSync(path.join(source, 'images', f), path.join(images, f));
  const metadata = path.join(abs, 'sample-metadata.csv');
  fs.writeFileSync(metadata, holdBackLabels(fs.readFileSync(path.join(source, 'metadata.csv'), 'utf8')));

  const { project } = Project.create(abs);
  try {
    const plan = await planImport({ imagesDir: images, metadataPath: metadata, preset: 'pad-ufes-20' }, abs);
    const summary = await runImport(project, plan, opts);
    const fields = repoOf(project.db, FieldsRepo);
    for (const [name, shown] of Object.entries(SAMPLE_FIELD_NAMES)) {
      const f = fields.get(name);
      if (f) fields.rename(f, shown);
    }
    // Written last: its presence says the sample is complete.
    fs.copyFileSync(path.join(source, 'README.md'), path.join(abs, SAMPLE_LICENCE_FILE));
    return { ...summary, dir: abs, heldBack: SAMPLE_HELD_BACK };
  } finally {
    project.close();
  }
}

/** The sample CSV with the diagnosis of SAMPLE_HELD_BACK rows emptied (a fixed choice, the same on every machine). */
function holdBackLabels(csv: string): string {
  const table = parseCsv(csv, 'metadata.csv');
  const col = table.header.indexOf(LABEL_COLUMN);
  const rand = rngFrom(20);
  const order = table.rows.map((_, i) => ({ i, key: rand() })).sort((a, b) => a.key - b.key);
  const blank = new Set(order.slice(0, SAMPLE_HELD_BACK).map((o) => o.i));
  const lines = table.rows.map((r, i) => r.cells.map((c, j) => (j === col && blank.has(i) ? '' : c)).join(','));
  return [table.header.join(','), ...lines].join('\n') + '\n';
}
