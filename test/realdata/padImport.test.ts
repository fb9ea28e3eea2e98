import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../src/main/images/importPlan.ts';
import { runImport } from '../../src/main/images/importRun.ts';
import { projectInfo } from '../../src/main/images/info.ts';
import { Project } from '../../src/main/project.ts';
import type { ImportSummary } from '../../src/shared/types.ts';
import { tempDir } from '../fixtures/generate.ts';
import { HAS_PAD, PAD_DIR } from '../fixtures/shared.ts';

describe.skipIf(!HAS_PAD)('PAD-UFES-20 from ../shared', () => {
  const tmp = tempDir();
  let project: Project;
  let summary: ImportSummary;

  beforeAll(async () => {
    project = Project.create(path.join(tmp.dir, 'pad')).project;
    const plan = await planImport({ imagesDir: path.join(PAD_DIR, 'images'), metadataPath: path.join(PAD_DIR, 'metadata.csv') }, project.dir);
    summary = await runImport(project, plan);
  });
  afterAll(() => {
    project.close();
    tmp.cleanup();
  });

  it('joins the 686 photos to their rows (img_id says .png, files are .jpg) with the auto preset', () => {
    expect(summary).toMatchObject({
      preset: 'pad-ufes-20',
      imagesAdded: 686,
      imagesFailed: 0,
      rowsMatched: 686,
      rowsWithoutImage: 1612,
      imagesWithoutRow: 0,
      label: 'diagnostic',
    });
  });

  it('counts the dataset’s classes, patients and lesions', () => {
    expect(summary.classes).toEqual({ ACK: 114, BCC: 194, MEL: 43, NEV: 182, SCC: 22, SEK: 131 });
    const info = projectInfo(project);
    expect(info).toMatchObject({ images: 686, labelled: 686, patients: 537, lesions: 579 });
  });

  it('types the clinical fields: age a number, region and gender categories, fitspatrick ordinal, UNK booleans', () => {
    const types = Object.fromEntries(summary.fields.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      age: 'number',
      region: 'category',
      gender: 'category',
      fitspatrick: 'ordinal',
      smoke: 'boolean',
      biopsed: 'boolean',
      diameter_1: 'number',
    });
    expect(types).not.toHaveProperty('img_id');
    expect(types).not.toHaveProperty('diagnostic');
  });
});
