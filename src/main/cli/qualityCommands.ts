import type { DuplicateGroup, DuplicateReport, QualityScanSummary } from '../../shared/quality.ts';
import { duplicateReport } from '../quality/report.ts';
import { DermFuseError } from '../../shared/errors.ts';
import { LABEL_NEXT_STRATEGIES, type LabelNextStrategy } from '../../shared/quality.ts';
import { runList } from '../ml/fusion/runs.ts';
import { DEFAULT_STRATEGY } from '../quality/labelNext.ts';
import { listImages } from '../workbench/browse.ts';
import { optionalString, positiveInt } from './args.ts';
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
  'label-next': {
    usage: 'dermfuse label-next DIR [--run ID] [--strategy uncertainty|uncertainty+diversity|random] [--limit 20] [--json]',
    summary: "orders the unlabelled images for labelling by a run's doubt (the newest finished run by default)",
    options: { run: { type: 'string' }, strategy: { type: 'string' }, limit: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      const strategy = optionalString(v, 'strategy') ?? DEFAULT_STRATEGY;
      if (!(LABEL_NEXT_STRATEGIES as readonly string[]).includes(strategy))
        throw new DermFuseError('INVALID_ARGUMENT', `--strategy must be one of ${LABEL_NEXT_STRATEGIES.join(', ')}, got "${strategy}"`);
      const limit = positiveInt(optionalString(v, 'limit'), 'limit') ?? 20;
      const { labelNextFromRun } = await import('../quality/labelQueue.ts');
      return withProject(dir!, async (project) => {
        const runId = positiveInt(optionalString(v, 'run'), 'run') ?? runList(project).find((r) => r.status === 'done')?.runId;
        if (runId === undefined) throw new DermFuseError('NOT_FOUND', 'No finished run yet: train one first (dermfuse train).');
        const info = labelNextFromRun(project, runId, strategy as LabelNextStrategy);
        const first = listImages(project, { label: null, sort: { by: 'labelNext', desc: false }, offset: 0, limit }).items.map((i) => i.externalId);
        return {
          json: { ...info, first },
          text: [
            `${info.images} unlabelled images ordered by ${info.strategy} from ${info.source}; label these first:`,
            ...first.map((id, i) => `  ${i + 1}. ${id}`),
          ].join('\n'),
        };
      });
    },
  },
  duplicates: {
    usage: 'dermfuse duplicates DIR [--json]',
    summary: 'near-duplicate images (copies across patients are leaks) and outliers; incremental after imports',
    options: {},
    positionals: ['DIR'],
    async run(_v, [dir], ctx) {
      const { scanQuality } = await import('../quality/scan.ts');
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
