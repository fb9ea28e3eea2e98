import { z } from 'zod';
import { BackboneSpecSchema } from '../backboneSpec.ts';
import { FIELD_TYPES } from '../../../shared/types.ts';
import { MODES } from '../../../shared/results.ts';

export const BUNDLE_FORMAT = 'dermfuse-bundle';
/** Bumped when a bundle written by this version could not be read correctly by an older one. */
export const BUNDLE_VERSION = 1;

export const ManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.number().int().positive(),
  createdAt: z.string(),
  versions: z.record(z.string(), z.string()),
  runId: z.number().int(),
  mode: z.enum(MODES),
  /** Every file of the bundle (but the manifest) with its SHA-256. */
  files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() })),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const PreprocessingFileSchema = z.object({
  mode: z.enum(MODES),
  label: z.string(),
  positive: z.array(z.string()).nullable(),
  classes: z.array(z.string()).min(2),
  threshold: z.number(),
  backbone: BackboneSpecSchema.omit({ dir: true })
    .extend({ digest: z.string().nullable(), folder: z.literal('backbone') })
    .nullable(),
  fields: z.array(z.object({ name: z.string(), type: z.enum(FIELD_TYPES) })),
  /** The fitted models (PCA, metadata encoder, heads, fusion) exactly as the workbench uses them. */
  models: z.unknown(),
});
export type PreprocessingFile = z.infer<typeof PreprocessingFileSchema>;
