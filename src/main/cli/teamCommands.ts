import { DermFuseError } from '../../shared/errors.ts';
import { ROLES, type ActivityEntry, type AgreementReport, type Role, type TaskInfo } from '../../shared/team.ts';
import { addAccount, listAccounts, renewToken, revokeAccount, serverAddress, setMetadataEdits } from '../team/accounts.ts';
import { agreementReport } from '../team/agreementReport.ts';
import { listTasks } from '../team/tasks.ts';
import { activity } from '../team/activity.ts';
import { optionalString, positiveInt } from './args.ts';
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

/** The sign-in link of a token: the server's address (given, or where the project was last served) with the token. */
function signInLink(url: string | null, token: string): string {
  return url ? `${url.replace(/\/?(\?.*)?$/, '')}/?token=${token}` : `<the address dermfuse serve prints>/?token=${token}`;
}

function describeTask(t: TaskInfo): string {
  const who = t.annotators.map((a) => `${a.name} ${a.labelled}`).join(', ') || 'no labels yet';
  return `  ${t.id}. ${t.name}${t.closedAt ? ' (closed)' : ''}: ${t.images} images x ${t.perImage} labels${t.blind ? ', blind' : ''}; ${t.complete} complete, ${t.labels}/${t.needed} labels (${who})`;
}

function describeActivity(e: ActivityEntry): string {
  const what = e.imageId === null ? (e.images === null ? '' : ` ${e.images} images`) : ` image ${e.externalId ?? `#${e.imageId}`}`;
  return `  ${e.at}  ${e.who} (${e.role})  ${e.action}${what}  ${e.outcome}  from ${e.origin}`;
}

const USER_ACTIONS = ['add', 'list', 'revoke', 'token', 'metadata'] as const;

export const TEAM_COMMANDS: Record<string, Command> = {
  users: {
    usage:
      'dermfuse users add DIR NAME --role annotator|adjudicator|admin [--url URL] | users list DIR | users revoke DIR NAME | users token DIR NAME [--url URL] | users metadata DIR yes|no',
    summary: 'accounts for a team on dermfuse serve: each gets a personal sign-in link (only its hash is stored)',
    options: { role: { type: 'string' }, url: { type: 'string' } },
    positionals: ['ACTION', 'DIR'],
    async run(v, [action, dir, name]) {
      if (!(USER_ACTIONS as readonly string[]).includes(action!))
        throw new DermFuseError('INVALID_ARGUMENT', `users ${action}: the actions are ${USER_ACTIONS.join(', ')}.`);
      const needName = () => {
        if (!name) throw new DermFuseError('INVALID_ARGUMENT', `users ${action} DIR NAME: name the account.`);
        return name;
      };
      return withProject(dir!, async (project) => {
        const db = project.db;
        const url = serverAddress(db, optionalString(v, 'url'));
        switch (action as (typeof USER_ACTIONS)[number]) {
          case 'add': {
            const role = optionalString(v, 'role');
            if (!role || !(ROLES as readonly string[]).includes(role)) throw new DermFuseError('INVALID_ARGUMENT', `--role is one of ${ROLES.join(', ')}.`);
            const token = addAccount(db, needName(), role as Role);
            const link = signInLink(url, token);
            return {
              json: { name: needName().trim(), role, token, link },
              text: `Added ${needName().trim()} (${role}). Personal sign-in link, shown once; send it privately:\n  ${link}`,
            };
          }
          case 'token': {
            const token = renewToken(db, needName());
            const link = signInLink(url, token);
            return { json: { name: needName(), token, link }, text: `New sign-in link for ${needName()} (the old one no longer works):\n  ${link}` };
          }
          case 'revoke':
            revokeAccount(db, needName());
            return { json: { revoked: needName() }, text: `Revoked ${needName()}: their link stops working at once; their labels stay.` };
          case 'metadata': {
            if (name !== 'yes' && name !== 'no') throw new DermFuseError('INVALID_ARGUMENT', 'users metadata DIR yes|no: may annotators edit metadata?');
            return { json: setMetadataEdits(db, name === 'yes'), text: `Annotators ${name === 'yes' ? 'may' : 'may not'} edit metadata.` };
          }
          case 'list': {
            const users = listAccounts(db);
            const lines = users.map((u) => `  ${u.name} (${u.role})${u.revokedAt ? `, revoked ${u.revokedAt}` : ''}`);
            return {
              json: users,
              text: users.length ? `Accounts:\n${lines.join('\n')}` : 'No accounts: the project is used by one person (dermfuse users add adds one).',
            };
          }
          default: {
            const never: never = action as never;
            throw new DermFuseError('INVALID_ARGUMENT', `users ${String(never)}`);
          }
        }
      });
    },
  },
  tasks: {
    usage: 'dermfuse tasks DIR [--json]',
    summary: 'labelling tasks with their progress per annotator',
    options: {},
    positionals: ['DIR'],
    async run(_v, [dir]) {
      return withProject(dir!, async (project) => {
        const tasks = listTasks(project);
        return {
          json: tasks,
          text: tasks.length ? `Labelling tasks:\n${tasks.map(describeTask).join('\n')}` : 'No labelling tasks (an admin makes them in the browser).',
        };
      });
    },
  },
  agreement: {
    usage: 'dermfuse agreement DIR [--label SET] [--task ID] [--json]',
    summary: "agreement between annotators: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha, vs consensus",
    options: { label: { type: 'string' }, task: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      return withProject(dir!, async (project) => {
        const r = agreementReport(project, optionalString(v, 'label'), positiveInt(optionalString(v, 'task'), 'task'));
        return { json: r, text: describeAgreement(r) };
      });
    },
  },
  audit: {
    usage: 'dermfuse audit DIR [--since TIME] [--who NAME] [--limit N] [--json]',
    summary: 'the access log: who viewed or changed which image or call, when and from where (newest first)',
    options: { since: { type: 'string' }, who: { type: 'string' }, limit: { type: 'string' } },
    positionals: ['DIR'],
    async run(v, [dir]) {
      const since = optionalString(v, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since)))
        throw new DermFuseError('INVALID_ARGUMENT', `--since takes a date or time such as 2026-12-01 or 2026-12-01T09:00:00Z, got "${since}"`);
      return withProject(dir!, async (project) => {
        const rows = activity(project.db, { since, who: optionalString(v, 'who'), limit: positiveInt(optionalString(v, 'limit'), 'limit') ?? 1000 });
        return {
          json: rows,
          text: rows.length ? `Access log, newest first:\n${rows.map(describeActivity).join('\n')}` : 'Nothing in the access log for that choice.',
        };
      });
    },
  },
};
