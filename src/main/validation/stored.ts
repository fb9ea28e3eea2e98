import { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';
import { MODES, type Mode } from '../../shared/results.ts';
import type { ValidationListItem, ValidationReport } from '../../shared/validation.ts';
import { jsonColumn } from '../db/json.ts';
import { repoOf } from '../db/open.ts';
import { ValidationsRepo, type ValidationRowDb } from '../db/repos/validationsRepo.ts';
import { csvCell } from '../files/csv.ts';
import { runRow } from '../ml/fusion/runRow.ts';
import type { Project } from '../project.ts';

const interval = z.object({ value: z.number().nullable(), ci: z.tuple([z.number().nullable(), z.number().nullable()]) });
const MODE = z.looseObject({ auc: interval });
/** The parts of a stored report every reader relies on; the rest is carried as written. */
const StoredReport = z.looseObject({
  runId: z.number().int(),
  classes: z.array(z.string()).min(2),
  modes: z.looseObject(Object.fromEntries(MODES.map((m) => [m, MODE])) as Record<Mode, typeof MODE>),
  shift: z.looseObject({ images: z.looseObject({ auc: interval }).nullable() }),
  rows: z.array(z.looseObject({ externalId: z.string(), label: z.string(), truth: z.string() })),
});

function parsed(r: ValidationRowDb): ValidationReport {
  return jsonColumn(r.report, StoredReport, `Validation ${r.id}: its report`) as unknown as ValidationReport;
}

/** A run's stored validations, newest first, with the headline figures. */
export function listValidations(project: Project, runId: number): ValidationListItem[] {
  runRow(project, runId);
  return repoOf(project.db, ValidationsRepo)
    .ofRun(runId)
    .map((r) => {
      const report = parsed(r);
      return {
        id: r.id,
        runId: r.run_id,
        createdAt: r.created_at,
        source: r.source,
        images: r.images,
        modes: Object.fromEntries(MODES.map((m) => [m, { auc: report.modes[m].auc }])) as ValidationListItem['modes'],
        imageShiftAuc: report.shift.images?.auc.value ?? null,
      };
    });
}

/** Every stored validation of a run, oldest first (the model card lists them all). */
export function runValidations(project: Project, runId: number): ValidationReport[] {
  return repoOf(project.db, ValidationsRepo).ofRun(runId).reverse().map(parsed);
}

/** One stored validation's full report; NOT_FOUND naming it when there is none. */
export function getValidation(project: Project, id: number): ValidationReport & { id: number } {
  const r = repoOf(project.db, ValidationsRepo).get(id);
  if (!r) throw new DermFuseError('NOT_FOUND', `No validation ${id} in this project (see dermfuse validations DIR --run ID).`);
  return { ...parsed(r), id: r.id };
}

/**
 * One row per external image: its id, its label, the truth as the run sees it, each mode's probability (binary: of
 * the positive class; multiclass: one column per class), and the run's fields it lacked.
 */
export function validationCsv(report: ValidationReport): string {
  const binary = report.classes.length === 2;
  const probCols = MODES.flatMap((m) => (binary ? [`p_${m}`] : report.classes.map((c) => `p_${m}_${c}`)));
  const lines = [['image_id', 'label', 'truth', ...probCols, 'missing_fields'].map(csvCell).join(',')];
  for (const r of report.rows) {
    const probs = MODES.flatMap((m) => (binary ? [String(r.probs[m][1])] : r.probs[m].map(String)));
    lines.push([r.externalId, r.label, r.truth, ...probs, r.missingFields.join(';')].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}
