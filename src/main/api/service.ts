import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { API, isCallName, type CallName, type Envelope, type RequestOf, type ResponseOf } from '../../shared/api.ts';
import { DermFuseError, toErrorPayload } from '../../shared/errors.ts';
import { projectInfo } from '../images/info.ts';
import { logger } from '../log.ts';
import { Project } from '../project.ts';
import { repoOf } from '../db/open.ts';
import { duplicateReport, reviewGroup } from '../quality/report.ts';
import { labelNextInfo, refreshFromBundle } from '../quality/labelQueue.ts';
import { agreementReport } from '../team/agreementReport.ts';
import { SettingsRepo } from '../db/repos/settingsRepo.ts';
import { RecentProjects } from './recent.ts';
import { browseFacets, imageDetail, listImages } from '../workbench/browse.ts';
import { jobFor } from '../workflows/jobs.ts';
import { importPreview } from '../workflows/importPreview.ts';
import { labelSetInfo, renameField, saveLabelSet } from '../workbench/labelSets.ts';
import { JobManager } from '../jobs/manager.ts';
import { embeddingMap, labelIssues, runCases } from '../results/cases.ts';
import { runReportView } from '../results/report.ts';
import { runList } from '../ml/fusion/runs.ts';
import { listViewCaches, removeViewCache } from '../ml/finetune/cacheFolders.ts';
import { reviewLabel } from '../results/review.ts';
import { FeatureStore } from '../db/repos/featureStore.ts';
import { CATALOGUE, catalogueEntry } from '../ml/backbone/catalogue.ts';
import { Editor } from '../workbench/edits.ts';
import { checkReadable, DEFAULT_MAX_UPLOAD_BYTES, DESKTOP_ACCESS, type AccessPolicy } from './access.ts';
import { Uploads } from '../files/upload.ts';
import type { Readable } from 'node:stream';
import { HIDDEN_WHEN_BLIND, MIN_ROLE } from '../../shared/roles.ts';
import { roleAtLeast } from '../../shared/team.ts';
import { withoutPaths } from '../../shared/redact.ts';
import type { ImageDetail } from '../../shared/types.ts';
import {
  accountCaller,
  addAccount,
  annotatorsEditMetadata,
  checkOwnerName,
  editorKey,
  hasAccounts,
  listAccounts,
  mayEditMetadata,
  ownerName,
  revokeAccount,
  setMetadataEdits,
  setOwnAdjudication,
  ownAdjudicationAllowed,
  type Caller,
} from '../team/accounts.ts';
import { annotatorJob, annotatorReport, blindDetail, blindInfo, blindLabelSet } from '../team/blind.ts';
import type { JobInfo } from '../../shared/jobs.ts';
import { closeTask, createTask, listTasks, nextInTask } from '../team/tasks.ts';
import { adjudicate, disagreements } from '../team/adjudication.ts';
import { TasksRepo } from '../db/repos/tasksRepo.ts';
import { projectPhotoFolders, type MediaRoots } from '../images/media.ts';
import { browseFolder } from './browseFiles.ts';
import { activity, logAccess, logCall } from '../team/activity.ts';
import { explainImage, explanationPng } from '../results/explain.ts';
import { Occluder } from '../ml/explain/occlusion.ts';
import { getValidation, listValidations } from '../validation/stored.ts';
import type { ValidationSource } from '../../shared/validation.ts';

const log = logger('api');
/** Where a call made in the window (or by a test) comes from, in the access log. */
export const LOCAL_ORIGIN = 'this machine';

/** The outcome of `work` as an envelope: its value, or its error as the client sees it (an unexpected one logged). */
async function answered(what: string, work: () => Promise<unknown>): Promise<Envelope<unknown>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    const error = toErrorPayload(err);
    if (error.code === 'INTERNAL') log.error(`${what} failed`, err);
    return { ok: false, error };
  }
}

/** What a transport adds that the service cannot do itself (a native folder dialog, in Electron). */
export interface Platform {
  pickFolder?(title: string | undefined, kind: 'folder' | 'csv'): Promise<string | null>;
}

type Handlers = { [K in CallName]: (req: RequestOf<K>, caller: Caller) => Promise<ResponseOf<K>> };

/** The service behind the contract: one open project per window or server. Transports call `dispatch`. */
export class Service {
  private project: Project | null = null;
  /** One editor (one undo history) per person: one person's undo never reverts another's edit. */
  private editors = new Map<string, Editor>();
  /** Real paths of the folders photos may be served from, resolved once (mediaRoots). */
  private realRoots = new Map<string, string | null>();
  private jobs = new JobManager();
  /** Embedding workers for occlusion maps, kept warm while a reviewer opens case after case. */
  private occluder = new Occluder();
  /** Uploads into the open project under way (serve). */
  private uploads: Uploads | null = null;
  private readonly handlers: Handlers;

  constructor(
    private readonly platform: Platform,
    private readonly recent: RecentProjects,
    private readonly access: AccessPolicy = DESKTOP_ACCESS,
  ) {
    this.handlers = {
      'project.create': async ({ dir }) => this.switchTo(() => Project.create(dir).project),
      'project.open': async ({ dir }) => this.switchTo(() => Project.open(dir)),
      'project.sample': async ({ dir }) => {
        if (this.access.pinned) throw new DermFuseError('FORBIDDEN', 'This server serves one project; start dermfuse serve --sample to serve the sample.');
        const target = path.resolve(dir ?? path.join(os.homedir(), 'dermfuse-sample'));
        const { createSampleProject, isSampleProject } = await import('../images/sample.ts');
        if (!isSampleProject(target)) await createSampleProject(target);
        return this.switchTo(() => Project.open(target));
      },
      'project.info': async (_req, caller) => {
        const info = projectInfo(this.open());
        // Annotators see the project's folder name, not where it lies on the server.
        const shown = roleAtLeast(caller.role, 'adjudicator') ? info : { ...info, dir: path.basename(info.dir) };
        return this.blind(caller) ? blindInfo(shown) : shown;
      },
      // A pinned server names no other project folder of this machine.
      'project.recent': async (_req, caller) =>
        !roleAtLeast(caller.role, 'adjudicator') ? [] : this.access.pinned ? (this.project ? [this.project.dir] : []) : this.recent.list(),
      'images.list': async (q) => listImages(this.open(), q),
      'images.get': async ({ id }, caller) => this.detail(id, caller),
      'labels.set': async ({ imageId, className, unsure }, caller) => {
        this.edits(caller).setLabel(imageId, className, unsure ?? false, caller.name);
        return this.detail(imageId, caller);
      },
      'fields.set': async ({ imageId, field, value }, caller) => {
        this.metadataAllowed(caller);
        this.edits(caller).setField(imageId, field, value, caller.name);
        return this.detail(imageId, caller);
      },
      'edits.undo': async (_req, caller) => {
        const undone = this.edits(caller).undo(caller.name);
        if (!undone) return { image: null, images: 0, undone: 'nothing to undo' };
        const image = this.detail(undone.imageIds[0]!, caller);
        const n = undone.imageIds.length;
        const value = undone.field === null ? (image.label ?? 'none') : String(image.metadata[undone.field] ?? 'missing');
        const what = undone.field === null ? 'label' : undone.field;
        // What the person sees confirmed: which edit went, and what the image holds now.
        const undoneText = n > 1 ? `${what} of ${n} images put back` : `${what} of ${image.externalId} back to ${value}`;
        return { image, images: n, undone: undoneText };
      },
      'labels.setMany': async ({ imageIds, className }, caller) => ({ changed: this.edits(caller).setLabels(imageIds, className, false, caller.name) }),
      'fields.setMany': async ({ imageIds, field, value }, caller) => {
        this.metadataAllowed(caller);
        return { changed: this.edits(caller).setFields(imageIds, field, value, caller.name) };
      },
      'images.facets': async () => browseFacets(this.open()),
      'labelSets.get': async (_req, caller) => (this.blind(caller) ? blindLabelSet(labelSetInfo(this.open())) : labelSetInfo(this.open())),
      'labelSets.save': async (edit) => saveLabelSet(this.open(), edit),
      'fields.rename': async ({ field, displayName }) => renameField(this.open(), field, displayName),
      'import.plan': async (req) => {
        this.importReadable(req);
        return importPreview(this.open(), req);
      },
      'jobs.start': async (req) => {
        if (req.kind === 'import') this.importReadable(req);
        if (req.kind === 'extract' && req.backbone) this.backboneAllowed(req.backbone);
        if (req.kind === 'validate') this.sourceReadable(req.source);
        const { title, body } = jobFor(this.open(), req);
        return this.jobs.start(req.kind, title, body);
      },
      'jobs.list': async (_req, caller) => this.jobs.list().map((j) => this.jobAs(j, caller)),
      'jobs.watch': async ({ id, after }, caller) => this.jobAs(await this.jobs.watch(id, after), caller),
      'jobs.cancel': async ({ id }) => this.jobs.cancel(id),
      'features.catalogue': async () =>
        CATALOGUE.map((e) => ({
          id: e.id,
          description: e.description,
          licence: e.licence,
          format: e.format,
          dim: e.dim,
          sizeMB: e.sizeMB ?? null,
          builtIn: !!e.builtIn,
        })),
      'features.list': async () =>
        repoOf(this.open().db, FeatureStore)
          .backbones()
          .map(({ key, name, dim, count }) => ({ key, name, dim, count })),
      'finetune.caches': async () => listViewCaches(this.open().dir),
      'finetune.removeCache': async ({ name }) => {
        removeViewCache(this.open().dir, name);
        return listViewCaches(this.open().dir);
      },
      'runs.list': async () => runList(this.open()),
      'runs.report': async ({ runId, curveClass }, caller) => {
        const report = runReportView(this.open(), runId, curveClass);
        return roleAtLeast(caller.role, 'adjudicator') ? report : annotatorReport(report);
      },
      'runs.cases': async (q) => runCases(this.open(), q),
      'validations.plan': async ({ runId, source }) => {
        this.sourceReadable(source);
        const { validationPlan } = await import('../validation/plan.ts');
        return validationPlan(this.open(), runId, source);
      },
      // Annotators see where a validation's data came from by folder name, not where it lies on the server.
      'validations.list': async ({ runId }, caller) =>
        listValidations(this.open(), runId).map((v) => (roleAtLeast(caller.role, 'adjudicator') ? v : { ...v, source: withoutPaths(v.source) })),
      'validations.get': async ({ id }) => getValidation(this.open(), id),
      'runs.labelIssues': async ({ runId }) => labelIssues(this.open(), runId),
      'runs.map': async ({ runId }) => embeddingMap(this.open(), runId),
      // The photo is read through the checks media serving applies (mediaRoots, openMedia), never straight from the row.
      'runs.explain': async (req) => explainImage(this.open(), this.occluder, { ...req, mode: req.mode ?? 'fused' }, await this.mediaRoots()),
      'runs.explainPng': async (req) => {
        const { png, fileName } = await explanationPng(this.open(), this.occluder, { ...req, mode: req.mode ?? 'fused' }, await this.mediaRoots());
        return { fileName, pngBase64: png.toString('base64') };
      },
      'labels.review': async (req, caller) => reviewLabel(this.open(), this.edits(caller), req, caller.name),
      'settings.getAnnotator': async (_req, caller) => caller.name,
      'settings.setAnnotator': async ({ name }) => {
        checkOwnerName(this.open().db, name);
        repoOf(this.open().db, SettingsRepo).set('annotator', name);
        return name;
      },
      'suggestions.apply': async ({ bundle }) => {
        this.readable(bundle, 'bundle');
        const { suggestFromBundle } = await import('../workflows/suggest.ts');
        const { scored, ...result } = await suggestFromBundle(this.open(), bundle);
        // The bundle's doubt orders the unlabelled images for labelling.
        refreshFromBundle(this.open(), bundle, scored, result.classes.length);
        return result;
      },
      'quality.duplicates': async () => duplicateReport(this.open()),
      'quality.review': async ({ imageIds, decision, detach }, caller) => reviewGroup(this.open(), imageIds, decision, caller.name, detach),
      'quality.labelNext': async () => labelNextInfo(this.open()),
      'team.agreement': async ({ labelSet, taskId }) => agreementReport(this.open(), labelSet, taskId),
      'team.me': async (_req, caller) => ({
        ...caller,
        blind: this.blind(caller),
        metadataEdits: this.project ? mayEditMetadata(this.project.db, caller) : true,
        annotatorsEditMetadata: this.project ? annotatorsEditMetadata(this.project.db) : true,
        adjudicateOwn: this.project ? ownAdjudicationAllowed(this.project.db) : false,
      }),
      // While blind, an annotator sees and works the blind tasks only: another task's images could be chosen by label.
      'team.tasks': async (_req, caller) => listTasks(this.open()).filter((t) => !this.blind(caller) || t.blind),
      'team.next': async ({ taskId, skip }, caller) => nextInTask(this.open(), taskId, caller, skip, this.blind(caller)),
      'team.createTask': async (req, caller) => createTask(this.open(), req, caller),
      'team.closeTask': async ({ id }) => closeTask(this.open(), id),
      'team.disagreements': async (q) => disagreements(this.open(), q),
      'team.adjudicate': async (req, caller) => adjudicate(this.open(), this.edits(caller), req, caller.name),
      'team.users': async () => listAccounts(this.open().db),
      'team.addUser': async ({ name, role }) => ({ name: name.trim(), token: addAccount(this.open().db, name, role) }),
      'team.setMetadataEdits': async ({ allowed }) => setMetadataEdits(this.open().db, allowed),
      'team.setOwnAdjudication': async ({ allowed }) => setOwnAdjudication(this.open().db, allowed),
      'team.activity': async (q) => activity(this.open().db, q),
      'team.revokeUser': async ({ name }) => {
        revokeAccount(this.open().db, name);
        return listAccounts(this.open().db);
      },
      'system.pickFolder': async ({ title, kind }) => {
        if (!this.platform.pickFolder) throw new DermFuseError('UNSUPPORTED', 'No folder dialog here: type the folder path.');
        return this.platform.pickFolder(title, kind ?? 'folder');
      },
      'files.browse': async ({ dir }) => {
        if (this.access.dataRoots === null) throw new DermFuseError('UNSUPPORTED', 'The window chooses folders with its own dialog.');
        return browseFolder(this.access.dataRoots, dir);
      },
      'uploads.begin': async ({ files }) => this.uploadsOf().begin(files),
      'uploads.finish': async ({ id }) => this.uploadsOf().finish(id),
      'uploads.discard': async ({ id }) => {
        this.uploadsOf().discard(id);
        return null;
      },
    };
  }

  /** Opens `dir` as the current project (used by `serve DIR`, which then pins it). */
  openProject(dir: string): void {
    this.switchTo(() => Project.open(dir), true);
  }

  /**
   * Validates an untrusted request against the contract and the caller's role, runs it, and wraps the outcome.
   * Without a caller the request acts as the project's owner (the desktop, the CLI, the server's own link).
   */
  async dispatch(name: unknown, rawRequest: unknown, caller?: Caller, origin = LOCAL_ORIGIN): Promise<Envelope<unknown>> {
    const who = caller ?? this.owner();
    const envelope = await this.run(name, rawRequest, who);
    if (isCallName(name) && this.project)
      logCall(this.project.db, { who: who.name, role: who.role, action: name, outcome: envelope.ok ? 'ok' : envelope.error.code, origin }, rawRequest);
    return envelope;
  }

  /** Logs a full image served to a caller (the transports call it; thumbnails are not logged, the grid's calls are). */
  logMedia(caller: Caller | undefined, imageId: number | null, outcome: string, origin: string): void {
    const who = caller ?? this.owner();
    if (this.project) logAccess(this.project.db, { who: who.name, role: who.role, action: 'media.image', imageId, images: null, outcome, origin });
  }

  /** Logs a request refused before it reached a call (no valid token, or the owner's from another machine). */
  logRefused(action: string, outcome: string, origin: string): void {
    if (this.project) logAccess(this.project.db, { who: '(not signed in)', role: 'annotator', action, imageId: null, images: null, outcome, origin });
  }

  private run(name: unknown, rawRequest: unknown, who: Caller): Promise<Envelope<unknown>> {
    return answered(String(name), async () => {
      if (!isCallName(name)) throw new DermFuseError('INVALID_REQUEST', `Unknown call ${JSON.stringify(name)}.`);
      if (!roleAtLeast(who.role, MIN_ROLE[name]))
        throw new DermFuseError('FORBIDDEN', `${name} needs the ${MIN_ROLE[name]} role; ${who.name} is signed in as an ${who.role}.`);
      if (HIDDEN_WHEN_BLIND.has(name) && this.blind(who))
        throw new DermFuseError(
          'FORBIDDEN',
          `A blind labelling task is open: other people's labels are hidden from annotators. Label from your task queue (Tasks).`,
        );
      const parsed = API[name].request.safeParse(rawRequest ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new DermFuseError('INVALID_REQUEST', `${name}: ${issue?.path.join('.') || 'request'}: ${issue?.message ?? 'invalid'}`);
      }
      const handler = this.handlers[name] as (req: unknown, caller: Caller) => Promise<unknown>;
      return handler(parsed.data, who);
    });
  }

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    await this.occluder.close();
    this.project?.close();
    this.project = null;
  }

  /** The project's owner: named by the project's annotator setting, else the operating-system user; an admin. */
  owner(): Caller {
    return { name: ownerName(this.project?.db ?? null), role: 'admin', account: false };
  }

  /** The account a personal token signs in as (null: no such active account, or no project open). */
  accountFor(token: string): Caller | null {
    return this.project ? accountCaller(this.project.db, token) : null;
  }

  /** True when the project has accounts (the server's own link then works only from this machine). */
  hasAccounts(): boolean {
    return this.project ? hasAccounts(this.project.db) : false;
  }

  private edits(caller: Caller): Editor {
    const key = editorKey(caller);
    let editor = this.editors.get(key);
    const project = this.open();
    // In a project with accounts the owner's undo, too, takes back only their own edits.
    if (!editor) this.editors.set(key, (editor = new Editor(project, () => caller.account || hasAccounts(project.db))));
    return editor;
  }

  /** An annotator signed in with an account while a blind task is open: others' labels and model output are hidden. */
  private blind(caller: Caller): boolean {
    return caller.account && caller.role === 'annotator' && this.project !== null && repoOf(this.project.db, TasksRepo).anyOpenBlind();
  }

  /** A job as this caller may see it: annotators get no result, path or error text. */
  private jobAs(j: JobInfo, caller: Caller): JobInfo {
    return roleAtLeast(caller.role, 'adjudicator') ? j : annotatorJob(j);
  }

  /** An image as this caller may see it (blind: without others' labels or suggestions until they labelled it). */
  private detail(id: number, caller: Caller): ImageDetail {
    const d = imageDetail(this.open(), id);
    return this.blind(caller) ? blindDetail(d, caller.name) : d;
  }

  private metadataAllowed(caller: Caller): void {
    if (!mayEditMetadata(this.open().db, caller))
      throw new DermFuseError('FORBIDDEN', 'In this project annotators do not edit metadata: ask an adjudicator or an admin.');
  }

  /**
   * Where served photos may lie, as real paths: the project, the --data folders and the folders the project imported
   * from (images: null on the desktop, anywhere: the person at the machine owns the disk), and its thumbnails.
   * Each folder is resolved once, the first time it is needed: a folder swapped for a link later moves nothing.
   */
  async mediaRoots(): Promise<MediaRoots> {
    const project = this.open();
    const real = async (dir: string) => {
      let r = this.realRoots.get(dir);
      if (r === undefined) this.realRoots.set(dir, (r = await fs.promises.realpath(dir).catch(() => null)));
      return r;
    };
    const thumbnails = (await real(path.join(project.dir, 'thumbnails'))) ?? path.join(project.dir, 'thumbnails');
    if (this.access.dataRoots === null) return { images: null, thumbnails };
    const dirs = [...this.access.dataRoots, ...projectPhotoFolders(project)];
    const images = (await Promise.all(dirs.map(real))).filter((d): d is string => d !== null);
    return { images, thumbnails };
  }

  /** The open project's uploads (serve only: the window imports folders where they lie). */
  private uploadsOf(): Uploads {
    if (this.access.dataRoots === null) throw new DermFuseError('UNSUPPORTED', 'The window imports folders where they lie: choose one with Browse….');
    return (this.uploads ??= new Uploads(this.open().dir, this.access.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES));
  }

  /**
   * One piece of an uploaded file, for the HTTP transport (the body is a stream, not JSON): refused unless the caller
   * may begin uploads; answered like a call.
   */
  async receiveUpload(
    caller: Caller | undefined,
    piece: { id: string; path: string; offset: number; length: number },
    body: Readable,
  ): Promise<Envelope<unknown>> {
    const who = caller ?? this.owner();
    return answered('upload', async () => {
      if (!roleAtLeast(who.role, MIN_ROLE['uploads.begin']))
        throw new DermFuseError('FORBIDDEN', `Uploads need the admin role; ${who.name} is signed in as an ${who.role}.`);
      return this.uploadsOf().receive(piece.id, piece.path, piece.offset, piece.length, body);
    });
  }

  /** The open project (for transports that serve its media). */
  current(): Project | null {
    return this.project;
  }

  private open(): Project {
    if (!this.project) throw new DermFuseError('NOT_A_PROJECT', 'No project is open: create or open one first.');
    return this.project;
  }

  /** Refuses a file outside what this service's callers may read (serve: the project and its --data folders). */
  private readable(file: string, what: string): void {
    checkReadable(this.access, this.open().dir, file, what);
  }

  /** An import's folder and CSV, both where this service's callers may read. */
  private importReadable(req: { imagesDir: string; metadataPath?: string }): void {
    this.readable(req.imagesDir, 'imagesDir');
    if (req.metadataPath) this.readable(req.metadataPath, 'metadataPath');
  }

  /** The external set of a validation: another project's folder, or an image folder and its CSV. */
  private sourceReadable(source: ValidationSource): void {
    if (source.kind === 'project') this.readable(source.dir, 'source.dir');
    else this.importReadable(source);
  }

  /** A catalogue id is always allowed; a URL (the server would fetch it) or a folder only where files may be read. */
  private backboneAllowed(backbone: string): void {
    if (catalogueEntry(backbone) || this.access.dataRoots === null) return;
    if (/^[a-z]+:\/\//i.test(backbone))
      throw new DermFuseError(
        'FORBIDDEN',
        `backbone: ${backbone}: this server downloads catalogue backbones only; name a catalogue id or a model folder under --data.`,
      );
    this.readable(backbone, 'backbone');
  }

  private switchTo(openIt: () => Project, initial = false) {
    if (this.access.pinned && !initial) {
      throw new DermFuseError(
        'FORBIDDEN',
        'This server serves one project; it cannot open or create another. Start dermfuse serve on the other project instead.',
      );
    }
    const project = openIt();
    if (this.jobs.list().some((j) => j.status === 'running')) {
      project.close();
      throw new DermFuseError('BUSY', 'A job is running in the open project: wait for it or cancel it before switching projects.');
    }
    this.project?.close();
    this.jobs = new JobManager();
    this.project = project;
    this.editors = new Map();
    this.realRoots = new Map();
    this.uploads = null;
    this.recent.add(project.dir);
    return projectInfo(project);
  }
}
