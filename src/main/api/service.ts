import { API, isCallName, type CallName, type Envelope, type RequestOf, type ResponseOf } from '../../shared/api.ts';
import { DermFuseError, toErrorPayload } from '../../shared/errors.ts';
import { projectInfo } from '../images/info.ts';
import { logger } from '../log.ts';
import { Project } from '../project.ts';
import { RecentProjects } from './recent.ts';

const log = logger('api');

/** What a transport adds that the service cannot do itself (a native folder dialog, in Electron). */
export interface Platform {
  pickFolder?(title: string | undefined): Promise<string | null>;
}

type Handlers = { [K in CallName]: (req: RequestOf<K>) => Promise<ResponseOf<K>> };

/** The service behind the contract: one open project per window or server. Transports call `dispatch`. */
export class Service {
  private project: Project | null = null;
  private readonly handlers: Handlers;

  constructor(
    private readonly platform: Platform,
    private readonly recent: RecentProjects,
  ) {
    this.handlers = {
      'project.create': async ({ dir }) => this.switchTo(Project.create(dir).project),
      'project.open': async ({ dir }) => this.switchTo(Project.open(dir)),
      'project.info': async () => projectInfo(this.open()),
      'project.recent': async () => this.recent.list(),
      'system.pickFolder': async ({ title }) => {
        if (!this.platform.pickFolder) throw new DermFuseError('UNSUPPORTED', 'No folder dialog here: type the folder path.');
        return this.platform.pickFolder(title);
      },
    };
  }

  /** Opens `dir` as the current project (used by `serve DIR`). */
  openProject(dir: string): void {
    this.switchTo(Project.open(dir));
  }

  /** Validates an untrusted request against the contract, runs it, and wraps the outcome. */
  async dispatch(name: unknown, rawRequest: unknown): Promise<Envelope<unknown>> {
    try {
      if (!isCallName(name)) throw new DermFuseError('INVALID_REQUEST', `Unknown call ${JSON.stringify(name)}.`);
      const parsed = API[name].request.safeParse(rawRequest ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new DermFuseError('INVALID_REQUEST', `${name}: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
      }
      const handler = this.handlers[name] as (req: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(parsed.data) };
    } catch (err) {
      const error = toErrorPayload(err);
      if (error.code === 'INTERNAL') log.error(`${String(name)} failed`, err);
      return { ok: false, error };
    }
  }

  close(): void {
    this.project?.close();
    this.project = null;
  }

  private open(): Project {
    if (!this.project) throw new DermFuseError('NOT_A_PROJECT', 'No project is open: create or open one first.');
    return this.project;
  }

  private switchTo(project: Project) {
    this.project?.close();
    this.project = project;
    this.recent.add(project.dir);
    return projectInfo(project);
  }
}
