import { DermFuseError } from '../../../shared/errors.ts';
import type { FieldValue } from '../../../shared/types.ts';
import { FieldsRepo } from '../../db/repos/fieldsRepo.ts';
import type { Project } from '../../project.ts';
import { findBackboneKey } from '../backbone/exportFeatures.ts';
import { allFinite } from '../stats/linalg.ts';
import { FeatureStore } from '../../db/repos/featureStore.ts';
import { isFinetunedBackbone } from '../../../shared/backbone.ts';
import type { FieldInput } from './tabular.ts';
import { readTransaction, repoOf } from '../../db/open.ts';
import { LabelsRepo } from '../../db/repos/labelsRepo.ts';
import { GROUP_BY } from '../../../shared/jobs.ts';
import { z } from 'zod';
import { CONSENSUS_RULES, DUPLICATE_MERGES, TRAIN_DEFAULTS, type ConsensusRule } from '../../../shared/jobs.ts';
import { TeamRepo } from '../../db/repos/teamRepo.ts';
import { adjudicatedLabels, consensusLabels } from '../stats/consensus.ts';
import { AdjudicationsRepo } from '../../db/repos/adjudicationsRepo.ts';
import { QualityRepo } from '../../db/repos/qualityRepo.ts';
import { mergeDuplicateGroups, type DuplicateMerges } from '../stats/duplicateGroups.ts';

/** A run's configuration as stored in its row (the `config` column, with the fields it ended up using). */
export const TrainConfigSchema = z.object({
  label: z.string(),
  /** Classes that make the positive class of a binary target (e.g. BCC, MEL, SCC = cancer); none: every class. */
  positive: z.array(z.string()).nullable(),
  /** Metadata fields to use; null: every field that is not flagged as leakage. */
  fields: z.array(z.string()).nullable(),
  group: z.enum(GROUP_BY),
  folds: z.number().int(),
  backbone: z.string().nullable(),
  seed: z.number().int(),
  /** Near-duplicate pairs that join groups: confirmed ones, also the last scan's unreviewed ones, or none. */
  duplicates: z.enum(DUPLICATE_MERGES).optional(),
  /** Which label an image several annotators labelled gets (older runs: the latest). */
  consensus: z.enum(CONSENSUS_RULES).optional(),
});
/** As written by callers: `duplicates` may be left out (older runs' rows have none: they merged nothing). */
export type TrainConfig = z.input<typeof TrainConfigSchema>;

/** What a run was trained on (the `snapshot` column). */
export const SnapshotSchema = z.object({
  labelSetId: z.number().int(),
  labelSet: z.string(),
  /** Newest annotation and metadata edit when the run started: later edits are not in the run. */
  maxAnnotationId: z.number().int(),
  maxFieldEditId: z.number().int(),
  backboneKey: z.string(),
  images: z.number().int(),
  skippedWithoutFeatures: z.number().int(),
  classCounts: z.record(z.string(), z.number()),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** Backbones a run fuses: one feature key, or several joined by '+' (their features concatenated, each reduced apart). */
export const KEY_SEPARATOR = '+';

/** A stored vector, refused by name when it holds NaN or infinity (extraction refuses them; an older one may not have). */
function finiteVector(key: string, v: { externalId: string; vector: Float32Array }): Float32Array {
  if (!allFinite(v.vector))
    throw new DermFuseError(
      'INVALID_VALUE',
      `The features ${key} of image ${v.externalId} hold non-finite values (NaN or infinity): they cannot be trained on. Extract them again under a backbone with sane preprocessing.`,
    );
  return v.vector;
}

/** Refuses to train on the features of a network fine-tuned on this project's labels (its runs would test on what it learned). */
export function refuseFinetunedFeatures(store: FeatureStore, key: string): void {
  const tuned = key
    .split(KEY_SEPARATOR)
    .map((k) => store.backbone(k)?.spec.name ?? k)
    .filter(isFinetunedBackbone);
  if (tuned.length > 0)
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `${tuned.join(', ')} was fine-tuned on this project's labels: a run on its features would be tested on images it learned from. Train on the pretrained backbone (with "Train the CNN too" / --finetune to fine-tune within each fold); the fine-tuned network is for predict and export.`,
    );
}

/**
 * Each image's features under one or several backbones (named by key or name, comma-separated), concatenated in
 * that order; only images that have features under all of them. Returns the keys and the width of each block.
 */
export function imageFeatures(store: FeatureStore, ref: string | null): { key: string; blocks: number[]; vectors: Map<number, Float32Array> } {
  const refs = ref
    ? ref
        .split(/[,+]/)
        .map((r) => r.trim())
        .filter(Boolean)
    : [];
  // Unnamed: the newest features of a pretrained backbone (a fine-tuned network's features have seen the labels).
  const keys = refs.length
    ? refs.map((r) => findBackboneKey(store, r))
    : [store.backbones().find((b) => !isFinetunedBackbone(b.name))?.key].filter((k): k is string => !!k);
  if (keys.length === 0) throw new DermFuseError('NOT_FOUND', 'No image features in this project yet: run dermfuse extract first.');

  if (new Set(keys).size !== keys.length) throw new DermFuseError('INVALID_ARGUMENT', `--backbone names the same features twice: ${ref}`);
  const perKey = keys.map((k) => new Map(store.imageVectors(k).map((v) => [v.imageId, finiteVector(k, v)])));
  const blocks = perKey.map((m) => m.values().next().value?.length ?? 0);
  const width = blocks.reduce((a, b) => a + b, 0);
  const vectors = new Map<number, Float32Array>();
  for (const [id, first] of perKey[0]!) {
    if (perKey.length === 1) {
      vectors.set(id, first);
      continue;
    }
    if (!perKey.every((m) => m.has(id))) continue;
    const v = new Float32Array(width);
    let o = 0;
    perKey.forEach((m) => {
      v.set(m.get(id)!, o);
      o += m.get(id)!.length;
    });
    vectors.set(id, v);
  }
  return { key: keys.join(KEY_SEPARATOR), blocks, vectors };
}

export interface Dataset {
  imageIds: number[];
  externalIds: string[];
  shas: string[];
  groups: string[];
  labels: Int32Array;
  classes: string[];
  image: Float32Array;
  imageDim: number;
  /** Widths of the backbones' blocks in `image` (one block for one backbone). */
  imageBlocks: number[];
  /** Every candidate metadata field (selection and leakage checks happen later). */
  fields: FieldInput[];
  meta: FieldValue[][];
  snapshot: Snapshot;
  /** Near-duplicates joined into one group for the folds and the bootstrap. */
  duplicates: DuplicateMerges;
  consensus: { rule: ConsensusRule; differing: number };
}

/**
 * Reads, in one read transaction, everything a run needs: labels, metadata and features as they are now. Edits
 * made while the run trains do not reach it; the snapshot says which edits it saw.
 */
export function loadDataset(project: Project, cfg: TrainConfig): Dataset {
  const db = project.db;
  return readTransaction(db, () => {
    const labelsRepo = repoOf(db, LabelsRepo);
    const set = labelsRepo.setNamed(cfg.label);
    if (!set) {
      const known = labelsRepo.setNames().join(', ') || 'none';
      throw new DermFuseError('NOT_FOUND', `--label ${cfg.label}: no such label set. Label sets of this project: ${known}.`);
    }
    const { key: backboneKey, blocks, vectors } = imageFeatures(repoOf(db, FeatureStore), cfg.backbone);
    const rule: ConsensusRule = cfg.consensus ?? 'latest';
    let rows = labelsRepo.labelledImages(set.id, cfg.group, 'external_id');
    let differing = 0;
    if (rule !== 'latest') {
      const decided = rule === 'adjudicated' ? adjudicatedLabels(repoOf(db, AdjudicationsRepo).latestDecisions(set.id)) : undefined;
      const agreed = consensusLabels(rule, repoOf(db, TeamRepo).latestLabels(set.id), new Map(rows.map((r) => [r.id, r.label])), decided);
      rows = rows.map((r) => {
        const label = agreed.get(r.id) ?? r.label;
        if (label !== r.label) differing++;
        return { ...r, label };
      });
    }
    // Rows in image-id text order, not row-id order (row ids follow import completion, which parallel thumbnailing
    // makes vary): the same data and seed then give the same folds in every project.
    const usable = rows.filter((r) => vectors.has(r.id));
    const present = [...new Set(usable.map((r) => r.label))].sort();
    if (cfg.positive) {
      const unknown = cfg.positive.filter((c) => !present.includes(c));
      if (unknown.length > 0)
        throw new DermFuseError('INVALID_ARGUMENT', `--positive names classes with no labelled images: ${unknown.join(', ')}. Classes: ${present.join(', ')}.`);
    }
    const classes = cfg.positive ? [`not ${cfg.positive.join('/')}`, cfg.positive.join('/')] : present;
    const labelOf = (l: string) => (cfg.positive ? (cfg.positive.includes(l) ? 1 : 0) : classes.indexOf(l));
    if (classes.length < 2)
      throw new DermFuseError('INVALID_ARGUMENT', `Training needs two classes or more; "${cfg.label}" has ${classes.length} among images with features.`);
    const repo = repoOf(db, FieldsRepo);
    const fieldRows = repo.list();
    const d = blocks.reduce((a, b) => a + b, 0);
    const image = new Float32Array(usable.length * d);
    usable.forEach((r, i) => image.set(vectors.get(r.id)!, i * d));
    const meta = repo.rows(
      usable.map((r) => r.id),
      fieldRows,
    );
    const labels = Int32Array.from(usable.map((r) => labelOf(r.label)));
    const imageIds = usable.map((r) => r.id);
    const shas = usable.map((r) => r.sha256);
    const include = cfg.duplicates ?? TRAIN_DEFAULTS.duplicates;
    const edges = include === 'none' ? [] : repoOf(db, QualityRepo).duplicateEdges(include);
    const merged = mergeDuplicateGroups(
      imageIds,
      usable.map((r) => r.grp),
      shas,
      labels,
      edges,
      { k: cfg.folds, seed: cfg.seed },
      include,
    );
    const classCounts: Record<string, number> = {};
    for (const l of labels) classCounts[classes[l]!] = (classCounts[classes[l]!] ?? 0) + 1;
    return {
      imageIds,
      externalIds: usable.map((r) => r.external_id),
      shas,
      groups: merged.groups,
      duplicates: merged.merges,
      consensus: { rule, differing },
      labels,
      classes,
      image,
      imageDim: d,
      imageBlocks: blocks,
      fields: fieldRows.map((f) => ({ name: f.name, type: f.type })),
      meta,
      snapshot: {
        labelSetId: set.id,
        labelSet: set.name,
        ...labelsRepo.editMarks(),
        backboneKey,
        images: usable.length,
        skippedWithoutFeatures: rows.length - usable.length,
        classCounts,
      },
    };
  });
}
