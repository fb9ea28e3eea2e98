import { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';
import type { Explanation } from '../../shared/explain.ts';
import { MODES } from '../../shared/results.ts';
import { repoOf } from '../db/open.ts';
import { ImagesRepo } from '../db/repos/imagesRepo.ts';
import { writeOutputFile } from '../files/write.ts';
import { optionalString, parseFlags, positiveInt, requireString } from './args.ts';
import { withProject, type Command } from './commands.ts';

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The waterfall in one line: base probability, each push in log-odds (largest first), the case's probability. */
export function waterfallText(e: Explanation): string {
  const c = e.contributions;
  if (!c) return '';
  const steps = [...c.contributions]
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .map((x) => `${x.field}${x.value === null || x.field === 'image' ? '' : ` ${String(x.value)}`} ${signed(x.contribution)}`);
  if (Math.abs(c.interaction) > 5e-3) steps.push(`interaction ${signed(c.interaction)}`);
  return `P(${e.className}): base ${c.baseProbability.toFixed(2)} → ${steps.join(' → ')} → ${sigmoid(c.logit).toFixed(2)}   (log-odds; ${c.method === 'exact' ? 'exact decomposition of a linear head' : `replacement by the training reference, ${c.head} head`})`;
}

/** The occlusion grid as text rows (drops in percentage points). */
function gridText(e: Explanation): string[] {
  const o = e.occlusion;
  if (!o) return [];
  return [
    `Occlusion (${o.grid}x${o.grid}, drop in P(${e.className}) when a patch is hidden, points; P = ${o.probability.toFixed(3)}):`,
    ...o.cells.map((row) => '  ' + row.map((v) => (100 * v).toFixed(1).padStart(6)).join('')),
  ];
}

/** `--baseline age=50,region=FACE` as field → value text. */
function baselineFlag(v: string | undefined): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of v.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) throw new DermFuseError('INVALID_ARGUMENT', `--baseline takes field=value pairs separated by commas, got "${part}"`);
    out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}

export const EXPLAIN_COMMANDS: Record<string, Command> = {
  explain: {
    usage: 'dermfuse explain DIR --run ID --image EXTERNAL_ID [--mode fused|image|metadata] [--class C] [--baseline field=value,...] [--out heat.png] [--json]',
    summary: 'why a run’s model said what it did about one image: where it looked (occlusion map) and what pushed it (contributions)',
    options: {
      run: { type: 'string' },
      image: { type: 'string' },
      mode: { type: 'string' },
      class: { type: 'string' },
      baseline: { type: 'string' },
      out: { type: 'string' },
    },
    positionals: ['DIR'],
    async run(v, [dir], ctx) {
      const { mode } = parseFlags(z.object({ mode: z.enum(MODES).default('fused') }), { mode: optionalString(v, 'mode') });
      const runId = positiveInt(requireString(v, 'run'), 'run')!;
      const external = requireString(v, 'image');
      const out = optionalString(v, 'out');
      if (out && mode === 'metadata')
        throw new DermFuseError('INVALID_ARGUMENT', '--out writes the occlusion map, which a metadata-only model has none of: use --mode fused or image.');
      const [{ Occluder }, { explainImage, explanationPng }] = await Promise.all([import('../ml/explain/occlusion.ts'), import('../results/explain.ts')]);
      return withProject(dir!, async (project) => {
        const image = repoOf(project.db, ImagesRepo).byExternalId(external);
        if (!image) throw new DermFuseError('NOT_FOUND', `--image ${external}: no such image in ${project.dir}.`);
        const occluder = new Occluder();
        try {
          const req = {
            runId,
            imageId: image.id,
            mode,
            className: optionalString(v, 'class'),
            baseline: baselineFlag(optionalString(v, 'baseline')),
            signal: ctx.signal,
          };
          ctx.progress(`explain: image ${external} under run ${runId} (${mode})`);
          let e: Explanation;
          if (out) {
            const r = await explanationPng(project, occluder, req);
            await writeOutputFile(out, r.png);
            e = r.explanation;
          } else e = await explainImage(project, occluder, req);
          const json = {
            runId,
            image: e.externalId,
            mode: e.mode,
            className: e.className,
            predicted: e.predicted,
            probability: e.contributions?.probability ?? null,
            occlusion: e.occlusion?.cells ?? null,
            grid: e.occlusion?.grid ?? null,
            contributions: e.contributions?.contributions.map(({ field, contribution, value, reference }) => ({ field, contribution, value, reference })) ?? [],
            method: e.contributions?.method ?? null,
            head: e.contributions?.head ?? null,
            baseProbability: e.contributions?.baseProbability ?? null,
            baseLogit: e.contributions?.baseLogit ?? null,
            logit: e.contributions?.logit ?? null,
            interaction: e.contributions?.interaction ?? null,
            cached: e.cached,
            out: out ?? null,
          };
          const text = [
            `Run ${runId}, ${mode} model, image ${e.externalId}: predicted ${e.predicted}`,
            waterfallText(e),
            ...gridText(e),
            ...(out ? [`Wrote ${out}`] : []),
          ].join('\n');
          return { json, text };
        } finally {
          await occluder.close();
        }
      });
    },
  },
};
