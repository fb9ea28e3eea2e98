import type { DuplicateGroup, DuplicateReport, QualityScanSummary } from '../../shared/quality.ts';
import { duplicateReport } from '../quality/report.ts';
import { scanQuality } from '../quality/scan.ts';
import { withProject, type Command } from './commands.ts';

/** Groups printed in full; the count says how many there are, --json has them all. */
const SHOWN_GROUPS = 20;

function flags(g: DuplicateGroup): string {
  const f = [g.spansPatients && 'SPANS PATIENTS', g.spansLesions && 'spans lesions', g.labelsDisagree && 'LABELS DISAGREE', g.status].filter(Boolean);
  return f.join(', ');
}

function describe(s: QualityScanSummary, r: DuplicateReport): string {
  const lines = [
    `Scanned ${s.images} images in ${s.seconds.toFixed(1)} s (features ${s.extractSeconds.toFixed(1)} s, hashes ${s.hashSeconds.toFixed(1)} s for ${s.hashed} new, pairs ${s.pairSeconds.toFixed(1)} s)`,
    `  rule: ${s.rule}`,
    `  ${s.pairs} near-duplicate pairs in ${s.groups} groups: ${s.crossPatientGroups} span patients (an identity error or a leak), ${s.crossLesionGroups} span lesions, ${s.labelConflictGroups} with labels that disagree`,
    `  ${s.outliers} outliers ranked (browser: sort by "outlier")${s.withoutFeatures ? `; ${s.withoutFeatures} images compared by hash only (no features)` : ''}`,
    ...s.failures.slice(0, 10).map((f) => `  could not read ${f.source}: ${f.message}`),
  ];
  for (const g of r.groups.filter((x) => x.status !== 'dismissed').slice(0, SHOWN_GROUPS)) {
    lines.push(`  group ${g.id} (${flags(g)}):`);
    for (const m of g.members) lines.push(`    ${m.externalId}  patient ${m.patient ?? '-'}  lesion ${m.lesion ?? '-'}  label ${m.label ?? '-'}`);
  }
  if (r.groups.length > SHOWN_GROUPS) lines.push(`  … and ${r.groups.length - SHOWN_GROUPS} more groups (--json lists them all; review them in the app)`);
  return lines.join('\n');
}

export const QUALITY_COMMANDS: Record<string, Command> = {
  duplicates: {
    usage: 'dermfuse duplicates DIR [--json]',
    summary: 'near-duplicate images (copies across patients are leaks) and outliers; incremental after imports',
    options: {},
    positionals: ['DIR'],
    async run(_v, [dir], ctx) {
      return withProject(dir!, async (project) => {
        const summary = await scanQuality(project, {
          signal: ctx.signal,
          onProgress: (p) => ctx.progress(`${p.phase}: ${p.done}/${p.total} ${p.message ?? ''}`),
        });
        const report = duplicateReport(project);
        return { json: { summary, groups: report.groups, dismissedPairs: report.dismissedPairs }, text: describe(summary, report) };
      });
    },
  },
};
