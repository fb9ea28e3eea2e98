/**
 * The one contract between renderer and main. Every call is declared here once: its name (`domain.verb`), a zod
 * schema for the request (main validates every request: the renderer is untrusted) and its response type.
 * The Electron preload and the HTTP client are both built from this table.
 */
import { z } from 'zod';
import type { ErrorPayload } from './errors.ts';
import type { ProjectInfo } from './types.ts';

/** Declares a call: the request schema, with the response type carried along as a phantom. */
function call<Req extends z.ZodType, Res>(request: Req): { request: Req; response: Res } {
  return { request, response: undefined as unknown as Res };
}

const projectDir = z.string().min(1, 'choose a project folder').max(4096);

export const API = {
  /** Creates a project folder (or opens it if it is one) and makes it the open project. */
  'project.create': call<z.ZodObject<{ dir: typeof projectDir }>, ProjectInfo>(z.object({ dir: projectDir })),
  /** Opens an existing project. */
  'project.open': call<z.ZodObject<{ dir: typeof projectDir }>, ProjectInfo>(z.object({ dir: projectDir })),
  /** Counts and schema of the open project. */
  'project.info': call<z.ZodObject<{}>, ProjectInfo>(z.object({})),
  /** Recently opened project folders, newest first. */
  'project.recent': call<z.ZodObject<{}>, string[]>(z.object({})),
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
