import { z } from 'zod';
import { BackboneSpecSchema } from '../../../shared/backbone.ts';
import { FIELD_TYPES } from '../../../shared/types.ts';
import { MODES } from '../../../shared/results.ts';

export const BUNDLE_FORMAT = 'dermfuse-bundle';
/** Bumped when a bundle written by this version could not be read correctly by an older one. */
export const BUNDLE_VERSION = 2;

/** Folder of the i-th backbone (0-based): `backbone`, then `backbone-2`, `backbone-3`, ... */
export function backboneFolder(i: number): string {
  return i === 0 ? 'backbone' : `backbone-${i + 1}`;
}

const BundleBackboneSchema = BackboneSpecSchema.omit({ dir: true }).extend({
  digest: z.string().nullable(),
  folder: z.string().regex(/^backbone(-[2-9]|-[1-9]\d)?$/),
});
export type BundleBackbone = z.infer<typeof BundleBackboneSchema>;

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
  backbone: BundleBackboneSchema.nullable(),
  /** Version 2: further backbones whose features follow the first one's, in this order (a run that fused several). */
  moreBackbones: z.array(BundleBackboneSchema).max(8).optional(),
  fields: z.array(z.object({ name: z.string(), type: z.enum(FIELD_TYPES) })),
  /** The label-set classes the run was trained on (binary: which of them are not the positive class); older bundles: absent. */
  labelClasses: z.array(z.string()).optional(),
  /** The run's cross-validated figures per mode, for external validation to compare with; older bundles: absent. */
  internal: z
    .record(
      z.enum(MODES),
      z.object({
        auc: z.number(),
        aucCI: z.tuple([z.number(), z.number()]),
        balancedAccuracy: z.number(),
        balancedAccuracyCI: z.tuple([z.number(), z.number()]),
      }),
    )
    .optional(),
  /** The fitted models (PCA, metadata encoder, heads, fusion) exactly as the workbench uses them. */
  models: z.unknown(),
});
export type PreprocessingFile = z.infer<typeof PreprocessingFileSchema>;
