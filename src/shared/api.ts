/**
 * The one contract between renderer and main. Every call is declared here once: its name (`domain.verb`), a zod
 * schema for the request (main validates every request: the renderer is untrusted) and its response type.
 * The Electron preload and the HTTP client are both built from this table.
 */
import { z } from 'zod';
import type { ErrorPayload } from './errors.ts';
import {
  AUGMENTS,
  CASE_FILTERS,
  MODES,
  type CaseRow,
  type EmbeddingMap,
  type LabelIssue,
  type RunListItem,
  type RunReportView,
  type ViewCacheInfo,
} from './results.ts';
import { ROLES, type AccountInfo, type ActivityEntry, type AgreementReport, type Disagreement, type Me, type TaskInfo, type TaskNext } from './team.ts';
import { QUALITY_FILTERS, type DuplicateReport, type LabelNextInfo } from './quality.ts';
import type { Explanation } from './explain.ts';
import { ValidateRequestSchema, ValidationSourceSchema, type ValidationListItem, type ValidationPlan, type ValidationReport } from './validation.ts';
import { BACKEND_NAMES, CONSENSUS_RULES, DUPLICATE_MERGES, GROUP_BY, RUNTIMES, type JobInfo } from './jobs.ts';
import {
  FIELD_TYPES,
  MAX_VALUE_CHARS,
  PRESET_NAMES,
  type BrowseFacets,
  type Field,
  type FolderListing,
  type ImageDetail,
  type ImageList,
  type ImportPreview,
  type LabelSetInfo,
  type ProjectInfo,
  type UploadBatch,
  type UploadDone,
} from './types.ts';

/** A backbone of the catalogue, as the extract form lists it. */
export interface CatalogueItem {
  id: string;
  description: string;
  licence: string;
  format: 'layers' | 'graph' | 'onnx';
  dim: number;
  /** Download size in MB; null when not known or built in. */
  sizeMB: number | null;
  /** Ships with DermFuse: works offline. */
  builtIn: boolean;
}

/**
 * Declares a call: `call<Response>()(requestSchema)`. The response type is named; the request type is the schema's
 * own, so each schema is written once.
 */
function call<Res>() {
  return <Req extends z.ZodType>(request: Req): { request: Req; response: Res } => ({ request, response: undefined as unknown as Res });
}

const projectDir = z.string().min(1, 'choose a project folder').max(4096);
const imageId = z.number().int().positive();
const fieldName = z.string().min(1).max(200);
const FieldFilterSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('range'), field: fieldName, min: z.number().nullable(), max: z.number().nullable() }),
  z.object({
    kind: z.literal('values'),
    field: fieldName,
    values: z
      .array(z.union([z.string().max(500), z.number(), z.boolean()]))
      .min(1)
      .max(1000),
  }),
  z.object({ kind: z.literal('missing'), field: fieldName }),
]);
const ListRequest = z.object({
  /** A class name, or null for unlabelled images only; absent: every image. */
  label: z.string().max(200).nullable().optional(),
  search: z.string().max(200).optional(),
  /** Only images whose current label was set by this annotator. */
  annotator: z.string().max(100).optional(),
  filters: z.array(FieldFilterSchema).max(50).optional(),
  /** Only these images (a confusion-matrix cell, a lasso on the embedding map). */
  ids: z.array(z.number().int().positive()).max(100_000).optional(),
  /** Only the last data-quality scan's outliers, or images in a near-duplicate group not yet confirmed. */
  quality: z.enum(QUALITY_FILTERS).optional(),
  /** `id` (the default), `label`, `annotated` (time of the current label), `outlier` (most unusual first), `labelNext`, or a metadata field's name. */
  sort: z.object({ by: z.string().min(1).max(200), desc: z.boolean() }).optional(),
  /** Count the matches and the classes (the first page of a query); later pages skip it. Default: offset 0 only. */
  counts: z.boolean().optional(),
  offset: z.number().int().min(0),
  limit: z.number().int().min(1).max(2000),
});
const imageIds = z.array(imageId).min(1).max(100_000);
const fieldValue = z.union([z.number(), z.string().max(MAX_VALUE_CHARS), z.boolean(), z.null()]);
export const ImportRequestSchema = z.object({
  imagesDir: z.string().min(1, 'choose the image folder').max(4096),
  metadataPath: z.string().max(4096).optional(),
  preset: z.enum(PRESET_NAMES).optional(),
  idColumn: z.string().max(200).optional(),
  labelColumn: z.string().max(200).optional(),
  patientColumn: z.string().max(200).optional(),
  lesionColumn: z.string().max(200).optional(),
  // Issue 25: the column mapping the import screen (and the CLI's --label-set, --map, --ignore, --types) chooses.
  /** The label set the labels go to; absent: the existing set whose classes the labels are, else a new one. */
  labelSet: z.string().min(1).max(200).optional(),
  /** Columns read into a field of another name (usually an existing field), by column name. */
  fieldMap: z.record(z.string().max(200), z.string().min(1).max(200)).optional(),
  /** Columns left out. */
  ignore: z.array(z.string().max(200)).max(2000).optional(),
  /** Field types by column name, over the inferred ones. */
  types: z.record(z.string().max(200), z.enum(FIELD_TYPES)).optional(),
  /** The roles given are the whole mapping: a label, patient or lesion column not named is none (no preset guess). */
  exactRoles: z.boolean().optional(),
});
const triple = z.tuple([z.number(), z.number(), z.number()]);
/** Feature extraction: the extract form, the CLI's `extract` flags and the job all read these; absent means the default. */
export const ExtractRequestSchema = z.object({
  /** A catalogue id, a model folder or a URL; absent: the built-in default backbone. */
  backbone: z.string().min(1).max(4096).optional(),
  /** Layer or node whose output is the embedding; absent: the backbone's own or the last global pooling. */
  layer: z.string().min(1).max(500).optional(),
  inputSize: z.number().int().min(16).max(1024).optional(),
  /** Value range of the network's input (e.g. -1,1); or mean and std on 0-1 values. */
  range: z.tuple([z.number(), z.number()]).optional(),
  mean: triple.optional(),
  std: triple.optional(),
  resize: z.enum(['squash', 'center-crop']).optional(),
  /** Also embed the horizontal mirror and average. */
  tta: z.boolean().optional(),
  /** ONNX Runtime or TF.js; absent: ONNX Runtime wherever the backbone runs on it. */
  runtime: z.enum(RUNTIMES).optional(),
  backend: z.enum(BACKEND_NAMES).optional(),
  // Bounded: each worker loads the model; a request (the renderer is untrusted in serve) cannot ask for hundreds.
  workers: z.number().int().min(1).max(16, 'at most 16 workers').optional(),
  batchSize: z.number().int().min(1).max(512).optional(),
});
/** A training run: the training form, the CLI's `train` flags and the job all read these; defaults in TRAIN_DEFAULTS. */
export const TrainRequestSchema = z.object({
  label: z.string().min(1, 'name the label set').max(200),
  /** A derived target of the label set, or a list of positive classes; neither: every class. */
  target: z.string().max(200).optional(),
  positive: z.array(z.string().min(1).max(200)).max(200).optional(),
  fields: z.array(fieldName).max(200).optional(),
  group: z.enum(GROUP_BY).optional(),
  folds: z.number().int().min(2, 'at least 2 folds').max(20, 'at most 20 folds').optional(),
  backbone: z.string().max(200).optional(),
  seed: z.number().int().min(1).max(1_000_000).optional(),
  /** The label of an image several annotators labelled: the latest (default), the majority, or Dawid-Skene's consensus. */
  consensus: z.enum(CONSENSUS_RULES).optional(),
  /** Near-duplicate pairs that join groups for the folds (default: confirmed and unreviewed ones). */
  duplicates: z.enum(DUPLICATE_MERGES).optional(),
  /** Train the top of the CNN too (after a frozen run of the same configuration, on its folds). */
  finetune: z.boolean().optional(),
  /** Where the trained top starts: a tensor or layer of the backbone, or "input"; absent: its last quarter. */
  finetuneFrom: z.string().min(1).max(500).optional(),
  /** Views (flips and quarter turns) per image: cached, trained on, averaged at test time. */
  views: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)], { error: 'views: 1, 2, 4 or 8' }).optional(),
  /** Random training views beside the flips and turns (as many again): crops, colour jitter or both. */
  augment: z
    .array(z.enum(AUGMENTS, { error: `augment: ${AUGMENTS.join(', ')}` }))
    .max(AUGMENTS.length)
    .optional(),
  /** Epochs at most per fine-tuning fit (early stopping usually ends sooner). */
  epochs: z.number().int().min(1, 'at least 1 epoch').max(200, 'at most 200 epochs').optional(),
});
export type TrainRequest = z.infer<typeof TrainRequestSchema>;
export type ExtractRequest = z.infer<typeof ExtractRequestSchema>;
const JobRequest = z.discriminatedUnion('kind', [
  ImportRequestSchema.extend({ kind: z.literal('import') }),
  ExtractRequestSchema.extend({ kind: z.literal('extract') }),
  TrainRequestSchema.extend({ kind: z.literal('train') }),
  z.object({ kind: z.literal('quality') }),
  ValidateRequestSchema.extend({ kind: z.literal('validate') }),
]);
const runId = z.number().int().positive();
const mode = z.enum(MODES);
const CasesRequest = z.object({
  runId,
  mode,
  trueClass: z.string().max(200).optional(),
  predictedClass: z.string().max(200).optional(),
  filter: z.enum(CASE_FILTERS),
  limit: z.number().int().min(1).max(5000),
});
const ReviewRequest = z.object({ runId, imageId, decision: z.enum(['keep', 'relabel']), className: z.string().max(200).optional() });
const hexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb');
const LabelSetSave = z.object({
  classes: z
    .array(z.object({ name: z.string().trim().min(1).max(200), color: hexColor.nullable(), hotkey: z.string().length(1).nullable() }))
    .min(1)
    .max(200),
  targets: z.array(z.object({ name: z.string().trim().min(1).max(200), classes: z.array(z.string().max(200)).min(1).max(200) })).max(50),
});
const LabelRequest = z.object({ imageId, className: z.string().max(200).nullable(), unsure: z.boolean().optional() });
const FieldRequest = z.object({ imageId, field: fieldName, value: fieldValue });
const DuplicateReviewRequest = z.object({
  /** The images of a group: the decision applies to every near-duplicate pair among them. */
  imageIds: z.array(imageId).min(2, 'a decision needs two images or more').max(1000),
  decision: z.enum(['same', 'different']),
  /** Only the pairs of this one image with the others: takes one image out of a group ("not a copy"). */
  detach: imageId.optional(),
});
const jobId = z.object({ id: z.number().int().positive() });
const uploadId = z.object({ id: z.string().regex(/^[0-9A-Za-z-]{1,80}$/) });
const taskId = z.number().int().positive();
const accountName = z.string().trim().min(1).max(60);
/** A labelling task on the primary label set: its images are the matches of a browser filter when it is made. */
const TaskRequest = z.object({
  name: z.string().trim().min(1, 'name the task').max(200),
  filter: ListRequest.pick({ label: true, search: true, annotator: true, filters: true, ids: true, quality: true }),
  perImage: z.number().int().min(1, 'at least 1 label per image').max(5, 'at most 5 labels per image'),
  blind: z.boolean(),
});
const AdjudicateRequest = z.object({
  imageId,
  className: z.string().min(1).max(200),
  reason: z.string().trim().min(1, 'give the reason for the decision').max(2000),
});

// Explanations (issue 26): why a run's final model said what it said about one image.
const ExplainRequest = z.object({
  runId,
  imageId,
  mode: mode.default('fused'),
  /** The class to explain; absent: the one the model predicts. */
  className: z.string().min(1).max(200).optional(),
  /** Also the occlusion map (default true; 65 copies embedded: about 0.3 s on the built-in MobileNetV2-0.35 once it is loaded, then cached). */
  occlusion: z.boolean().optional(),
  /** Reference values to measure some fields' contributions against, instead of the average training patient. */
  baseline: z.record(fieldName, z.string().max(200)).optional(),
});
const EXPLAIN_CALLS = {
  /** Where the model looked (occlusion map) and what pushed it (each field's and the image's contribution). */
  'runs.explain': call<Explanation>()(ExplainRequest),
  /** The photo with its occlusion map and a colour bar, as a PNG (base64). */
  'runs.explainPng': call<{ fileName: string; pngBase64: string }>()(ExplainRequest.omit({ occlusion: true })),
};

// External validation (issue 27): a run scored on another labelled set; started as a 'validate' job.
const VALIDATION_CALLS = {
  /** Both sides' classes and fields with their values, for the Validate form's maps (a folder is imported first). */
  'validations.plan': call<ValidationPlan>()(z.object({ runId, source: ValidationSourceSchema })),
  /** A run's stored validations, newest first. */
  'validations.list': call<ValidationListItem[]>()(z.object({ runId })),
  /** One stored validation's report: figures beside the run's, shift, subgroups, per-image rows. */
  'validations.get': call<ValidationReport & { id: number }>()(z.object({ id: z.number().int().positive() })),
};

export const API = {
  ...EXPLAIN_CALLS,
  ...VALIDATION_CALLS,
  /** Creates a project folder (or opens it if it is one) and makes it the open project. */
  'project.create': call<ProjectInfo>()(z.object({ dir: projectDir })),
  /** Opens an existing project. */
  'project.open': call<ProjectInfo>()(z.object({ dir: projectDir })),
  /** Creates the built-in PAD-UFES-20 sample project in `dir` (default: dermfuse-sample in the home folder) and opens it; opens it when it is already there. */
  'project.sample': call<ProjectInfo>()(z.object({ dir: projectDir.optional() })),
  /** Counts and schema of the open project. */
  'project.info': call<ProjectInfo>()(z.object({})),
  /** Recently opened project folders, newest first. */
  'project.recent': call<string[]>()(z.object({})),
  /** A page of images of the open project, filtered, with the counts the browser shows. */
  'images.list': call<ImageList>()(ListRequest),
  /** One image with its metadata, label history and related images. */
  'images.get': call<ImageDetail>()(z.object({ id: imageId })),
  /** Sets (or clears, with null) the label of an image; recorded with the annotator and time. */
  'labels.set': call<ImageDetail>()(LabelRequest),
  /** Undoes the last label or metadata edit of this session (itself recorded as an edit). */
  'edits.undo': call<{ image: ImageDetail | null; images: number; /** What was undone, in words ("label of IMG_1 back to none"). */ undone: string }>()(
    z.object({}),
  ),
  /** Sets one label on many images (grid multi-select): one edit, undone as one. */
  'labels.setMany': call<{ changed: number }>()(z.object({ imageIds, className: z.string().max(200).nullable() })),
  /** Sets one metadata value on many images, each checked; nothing is written if any is invalid. */
  'fields.setMany': call<{ changed: number }>()(z.object({ imageIds, field: fieldName, value: fieldValue })),
  /** Observed values and ranges of every field, and the annotators: what the filter panel offers. */
  'images.facets': call<BrowseFacets>()(z.object({})),
  /** The primary label set: classes with colours and hotkeys, and derived targets. */
  'labelSets.get': call<LabelSetInfo>()(z.object({})),
  /** Saves the label-set editor: classes (new ones added, unused ones removed, order kept), colours, hotkeys, targets. */
  'labelSets.save': call<LabelSetInfo>()(LabelSetSave),
  /** What the screens call a field (null or blank: its own name); the stored name is unchanged. */
  'fields.rename': call<Field[]>()(z.object({ field: fieldName, displayName: z.string().max(200).nullable() })),
  /** What an import would do (preset, mapping, types, problems), before anything is written. */
  'import.plan': call<ImportPreview>()(ImportRequestSchema),
  /** Starts long work (import, feature extraction, training) as a job; one at a time. */
  'jobs.start': call<JobInfo>()(JobRequest),
  'jobs.list': call<JobInfo[]>()(z.object({})),
  /** Answers as soon as the job has news past `after` (a version), or after 15 s: progress as a long poll. */
  'jobs.watch': call<JobInfo>()(z.object({ id: z.number().int().positive(), after: z.number().int().min(-1) })),
  'jobs.cancel': call<JobInfo>()(jobId),
  /** Feature sets of the project (one per backbone configuration), for the training form. */
  'features.list': call<{ key: string; name: string; dim: number; count: number }[]>()(z.object({})),
  /** The backbones the extract form offers: id, what it is, licence, size, and whether it needs a download. */
  'features.catalogue': call<CatalogueItem[]>()(z.object({})),
  /** The fine-tuning view caches on disk (what each caches, its size, its last use), most recently used first. */
  'finetune.caches': call<ViewCacheInfo[]>()(z.object({})),
  /** Removes one view cache (a later fine-tuned run of its settings caches again); BUSY while a run uses it. */
  'finetune.removeCache': call<ViewCacheInfo[]>()(z.object({ name: z.string().min(1).max(200) })),
  /** Training runs with their configuration and headline metrics, newest first. */
  'runs.list': call<RunListItem[]>()(z.object({})),
  /** The three modes side by side: intervals, paired tests, curves, calibration, confusion matrices, subgroups. */
  'runs.report': call<RunReportView>()(z.object({ runId, curveClass: z.string().max(200).optional() })),
  /** The images behind a number: a confusion cell, the mistakes, where the metadata changed the answer; worst first. */
  'runs.cases': call<{ total: number; rows: CaseRow[] }>()(CasesRequest),
  /** Likely label errors by confident learning, most suspect first, with the decisions taken. */
  'runs.labelIssues': call<LabelIssue[]>()(z.object({ runId })),
  /** The 2-D map of the run's features with label, prediction, correctness and every field. */
  'runs.map': call<EmbeddingMap>()(z.object({ runId })),
  /** Keeps (re-confirms) or changes a label from the label-error review; recorded as an annotation and a review. */
  'labels.review': call<{ currentLabel: string | null; review: 'keep' | 'relabel' }>()(ReviewRequest),
  /** Sets a metadata value after checking it against the field's type and allowed values. */
  'fields.set': call<ImageDetail>()(FieldRequest),
  /** The annotator name stored with every edit. */
  'settings.getAnnotator': call<string>()(z.object({})),
  'settings.setAnnotator': call<string>()(z.object({ name: z.string().trim().min(1).max(100) })),
  /** Applies an exported bundle to the unlabelled images; its predictions become suggestions. */
  'suggestions.apply': call<{ suggested: number; failed: number; classes: string[] }>()(z.object({ bundle: z.string().min(1).max(4096) })),
  /** Near-duplicate groups of the last data-quality scan, for review: members, pairs, decisions, leaks flagged. */
  'quality.duplicates': call<DuplicateReport>()(z.object({})),
  /** Confirms a group as one lesion (its images stay together in every split) or dismisses it; stored with who and when. */
  'quality.review': call<{ pairs: number }>()(DuplicateReviewRequest),
  /** Where the browser's "label next" order came from (a run or a bundle, the strategy, when); null before any. */
  'quality.labelNext': call<LabelNextInfo | null>()(z.object({})),
  /** Agreement between the annotators of a label set (the primary one when not named): kappas, alpha, per class, vs consensus. */
  'team.agreement': call<AgreementReport>()(z.object({ labelSet: z.string().max(200).optional(), taskId: taskId.optional() })),
  /** Who is signed in, with which role, and whether labels are hidden from them (blind). */
  'team.me': call<Me>()(z.object({})),
  /** Labelling tasks with progress per annotator (closed ones too). */
  'team.tasks': call<TaskInfo[]>()(z.object({})),
  /** The caller's next image in a task: not labelled by them yet, still short of labels; fewest labels first. */
  'team.next': call<TaskNext>()(z.object({ taskId, skip: z.array(imageId).max(1000).optional() })),
  /** Creates a labelling task from a browser filter (admin). */
  'team.createTask': call<TaskInfo>()(TaskRequest),
  /** Closes a task: it leaves the queues (its labels stay). */
  'team.closeTask': call<TaskInfo>()(z.object({ id: taskId })),
  /** Images whose annotators' latest labels differ, with every label, the model's view and any decision. */
  'team.disagreements': call<Disagreement[]>()(z.object({ taskId: taskId.optional(), decided: z.boolean().optional() })),
  /** Resolves a disagreement: the decision becomes the image's label, stored with the reason and the adjudicator. */
  'team.adjudicate': call<Disagreement>()(AdjudicateRequest),
  /** The project's accounts (admin). */
  'team.users': call<AccountInfo[]>()(z.object({})),
  /** Creates an account; answers its personal token once (the sign-in link is the server's address with ?token=). */
  'team.addUser': call<{ name: string; token: string }>()(z.object({ name: accountName, role: z.enum(ROLES) })),
  /** Whether annotators may edit metadata (adjudicators and admins always may). */
  'team.setMetadataEdits': call<{ annotatorsEditMetadata: boolean }>()(z.object({ allowed: z.boolean() })),
  /** Revokes an account: its link stops working at once; its labels stay. */
  'team.revokeUser': call<AccountInfo[]>()(z.object({ name: accountName })),
  /** The access log, newest first: who viewed or changed what, when and from where (admins). */
  'team.activity': call<ActivityEntry[]>()(
    z.object({ since: z.iso.datetime({ offset: true }).optional(), who: accountName.optional(), limit: z.number().int().min(1).max(5000).optional() }),
  ),
  /** Asks the desktop for a folder (Electron only; elsewhere UNSUPPORTED and the UI takes a typed path). */
  'system.pickFolder': call<string | null>()(z.object({ title: z.string().max(200).optional(), kind: z.enum(['folder', 'csv']).optional() })),
  // Issue 25: the folder picker of serve.
  /** A folder inside the server's --data folders (absent: those folders), to choose an import's images and CSV. */
  'files.browse': call<FolderListing>()(z.object({ dir: z.string().max(4096).optional() })),
  /** Serve: declares an upload of a folder of photos (and its CSV) into the project; the files then arrive by PUT /upload. */
  'uploads.begin': call<UploadBatch>()(
    z.object({
      files: z
        .array(z.object({ path: z.string().min(1).max(1000), size: z.number().int().min(0) }))
        .min(1)
        .max(12_000),
    }),
  ),
  /** Ends an upload whose files have all arrived: its folder and CSV files, to import. */
  'uploads.finish': call<UploadDone>()(uploadId),
  /** Removes an unfinished upload and what arrived of it. */
  'uploads.discard': call<null>()(uploadId),
  /** Whether an adjudicator may decide a dispute they labelled themselves (admin; off by default). */
  'team.setOwnAdjudication': call<{ adjudicateOwn: boolean }>()(z.object({ allowed: z.boolean() })),
} as const;

export type Api = typeof API;
export type CallName = keyof Api;
export type RequestOf<K extends CallName> = z.input<Api[K]['request']>;
export type ResponseOf<K extends CallName> = Api[K]['response'];

/** What travels back over either transport. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ErrorPayload };

/** The client the renderer uses: the same on Electron IPC and on HTTP. Rejects with an ApiError. */
export type ApiClient = { [K in CallName]: (req: RequestOf<K>) => Promise<ResponseOf<K>> };

export class ApiError extends Error {
  constructor(readonly payload: ErrorPayload) {
    super(payload.message);
    this.name = 'ApiError';
  }
}

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.hasOwn(API, name);
}

/** Builds a client from a transport that sends one named request and returns the envelope. */
export function makeClient(send: (name: CallName, req: unknown) => Promise<Envelope<unknown>>): ApiClient {
  const client = {} as Record<CallName, (req: unknown) => Promise<unknown>>;
  for (const name of Object.keys(API) as CallName[]) {
    client[name] = async (req) => {
      const env = await send(name, req);
      if (!env.ok) throw new ApiError(env.error);
      return env.value;
    };
  }
  return client as unknown as ApiClient;
}
