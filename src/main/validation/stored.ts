import { DermFuseError } from '../../shared/errors.ts';
import { MODES } from '../../shared/results.ts';
import type { ValidationListItem, ValidationReport } from '../../shared/validation.ts';
import { repoOf } from '../db/open.ts';
import { validationReport, ValidationsRepo } from '../db/repos/validationsRepo.ts';
import { csvCell } from '../files/csv.ts';
import { runRow } from '../ml/fusion/runRow.ts';
import type { Project } from '../project.ts';

/** A run's stored validations, newest first, with the headline figures. */
export function listValidations(project: Project, runId: number): ValidationListItem[] {
  runRow(project, runId);
  return repoOf(project.db, ValidationsRepo)
    .ofRun(runId)
    .map((r) => {
      const report = validationReport(r);
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

/** One stored validation's full report; NOT_FOUND naming it when there is none. */
export function getValidation(project: Project, id: number): ValidationReport & { id: number } {
  const r = repoOf(project.db, ValidationsRepo).get(id);
  if (!r) throw new DermFuseError('NOT_FOUND', `No validation ${id} in this project (see dermfuse validations DIR --run ID).`);
  return { ...validationReport(r), id: r.id };
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
