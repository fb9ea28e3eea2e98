/**
 * The one contract between renderer and main. Every call is declared here once: its name (`domain.verb`), a zod
 * schema for the request (main validates every request: the renderer is untrusted) and its response type.
 * The Electron preload and the HTTP client are both built from this table.
 */
import { z } from 'zod';
import type { ErrorPayload } from './errors.ts';
import type { FieldValue, ImageDetail, ImageList, ProjectInfo } from './types.ts';

/** Declares a call: the request schema, with the response type carried along as a phantom. */
function call<Req extends z.ZodType, Res>(request: Req): { request: Req; response: Res } {
  return { request, response: undefined as unknown as Res };
}

const projectDir = z.string().min(1, 'choose a project folder').max(4096);
const imageId = z.number().int().positive();
const ListRequest = z.object({
  /** A class name, or null for unlabelled images only; absent: every image. */
  label: z.string().max(200).nullable().optional(),
  search: z.string().max(200).optional(),
  offset: z.number().int().min(0),
  limit: z.number().int().min(1).max(2000),
});
const LabelRequest = z.object({ imageId, className: z.string().max(200).nullable(), unsure: z.boolean().optional() });
const FieldRequest = z.object({ imageId, field: z.string().min(1).max(200), value: z.union([z.number(), z.string().max(10_000), z.boolean(), z.null()]) });

export const API = {
  /** Creates a project folder (or opens it if it is one) and makes it the open project. */
  'project.create': call<z.ZodObject<{ dir: typeof projectDir }>, ProjectInfo>(z.object({ dir: projectDir })),
  /** Opens an existing project. */
  'project.open': call<z.ZodObject<{ dir: typeof projectDir }>, ProjectInfo>(z.object({ dir: projectDir })),
  /** Counts and schema of the open project. */
  'project.info': call<z.ZodObject<{}>, ProjectInfo>(z.object({})),
  /** Recently opened project folders, newest first. */
  'project.recent': call<z.ZodObject<{}>, string[]>(z.object({})),
  /** A page of images of the open project, filtered, with the counts the browser shows. */
  'images.list': call<typeof ListRequest, ImageList>(ListRequest),
  /** One image with its metadata, label history and related images. */
  'images.get': call<z.ZodObject<{ id: typeof imageId }>, ImageDetail>(z.object({ id: imageId })),
  /** Sets (or clears, with null) the label of an image; recorded with the annotator and time. */
  'labels.set': call<typeof LabelRequest, ImageDetail>(LabelRequest),
  /** Undoes the last label or metadata edit of this session (itself recorded as an edit). */
  'edits.undo': call<z.ZodObject<{}>, ImageDetail | null>(z.object({})),
  /** Sets a metadata value after checking it against the field's type and allowed values. */
  'fields.set': call<typeof FieldRequest, ImageDetail>(FieldRequest),
  /** The annotator name stored with every edit. */
  'settings.getAnnotator': call<z.ZodObject<{}>, string>(z.object({})),
  'settings.setAnnotator': call<z.ZodObject<{ name: z.ZodString }>, string>(z.object({ name: z.string().trim().min(1).max(100) })),
  /** Applies an exported bundle to the unlabelled images; its predictions become suggestions. */
  'suggestions.apply': call<z.ZodObject<{ bundle: z.ZodString }>, { suggested: number; failed: number; classes: string[] }>(z.object({ bundle: z.string().min(1).max(4096) })),
  /** Asks the desktop for a folder (Electron only; elsewhere UNSUPPORTED and the UI takes a typed path). */
  'system.pickFolder': call<z.ZodObject<{ title: z.ZodOptional<z.ZodString> }>, string | null>(z.object({ title: z.string().max(200).optional() })),
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
