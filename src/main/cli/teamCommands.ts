import type { AgreementReport } from '../../shared/team.ts';
import { agreementReport } from '../team/agreementReport.ts';
import { optionalString } from './args.ts';
import { withProject, type Command } from './commands.ts';

function describeAgreement(r: AgreementReport): string {
  const ci = (c: [number, number]) => `[${c[0].toFixed(3)}, ${c[1].toFixed(3)}]`;
  const lines = [
    `Agreement on ${r.labelSet}: ${r.images} images labelled by two annotators or more (${r.annotators.map((a) => `${a.name} ${a.images}`).join(', ')})`,
  ];
  if (r.images === 0) return [...lines, '  nothing to compare yet: agreement needs images labelled by two annotators'].join('\n');
  lines.push(
    `  percent agreement ${r.percentAgreement!.toFixed(3)}; Fleiss' kappa ${r.fleissKappa!.value.toFixed(3)} ${ci(r.fleissKappa!.ci)}; Krippendorff's alpha ${r.krippendorffAlpha!.value.toFixed(3)} ${ci(r.krippendorffAlpha!.ci)}`,
    ...r.pairs.map((p) => `  ${p.a} vs ${p.b}: ${p.images} images, agree ${p.agreement.toFixed(3)}, Cohen's kappa ${p.kappa.toFixed(3)} ${ci(p.ci)}`),
    `  per class: ${r.perClass.map((c) => `${c.className} ${c.agreement === null ? '-' : c.agreement.toFixed(3)}`).join(', ')}`,
    ...r.vsConsensus.map(
      (a) => `  ${a.name} vs consensus (Dawid-Skene): accuracy ${a.accuracy.toFixed(3)} on ${a.images} images, estimated ${a.estimatedAccuracy.toFixed(3)}`,
    ),
  );
  return lines.join('\n');
}

export const TEAM_COMMANDS: Record<string, Command> = {
  agreement: {
    usage: 'dermfuse agreement DIR [--label SET] [--json]',
    summary: "agreement between annotators: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha, vs consensus",
    options: { label: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      return withProject(dir!, async (project) => {
        const r = agreementReport(project, optionalString(v, 'label'));
        return { json: r, text: describeAgreement(r) };
      });
    },
  },
};
