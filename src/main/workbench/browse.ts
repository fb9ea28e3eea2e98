import { DermFuseError } from '../../shared/errors.ts';
import type { BrowseCounts, BrowseFacets, FieldSummary, FieldValue, ImageDetail, ImageList } from '../../shared/types.ts';
import { FieldsRepo, toField } from '../db/repos/fieldsRepo.ts';
import { gridIndex, querySlots, type GridIndex } from './gridIndex.ts';
import { LabelsRepo } from '../db/repos/labelsRepo.ts';
import type { Project } from '../project.ts';
import { repoOf } from '../db/open.ts';
import { BrowseRepo } from '../db/repos/browseRepo.ts';
import type { RequestOf } from '../../shared/api.ts';

/** A grid query: exactly what the contract's `images.list` takes (validated there). */
export type ListQuery = RequestOf<'images.list'>;

/**
 * Results of recent queries as ordered id lists, valid while nothing was written to the project: scrolling pages
 * through a result is then a slice and a lookup of 200 rows.
 */
interface CachedResult {
  version: string;
  /** Slots of the grid index, in order. */
  slots: Int32Array;
}
const RESULT_CACHE_SIZE = 8;
const resultCache = new WeakMap<Project, Map<string, CachedResult>>();

/** The index slots matching a query, in order. */
function orderedSlots(project: Project, q: ListQuery, ix: GridIndex): Int32Array {
  // undefined (every label) and null (unlabelled) must not share a key: JSON would write both as null.
  const key = JSON.stringify([
    q.label === undefined ? { every: true } : q.label,
    q.search ?? '',
    q.annotator ?? { anyone: true },
    q.filters ?? [],
    q.ids ?? { all: true },
    q.sort ?? null,
    q.quality ?? null,
  ]);
  let cache = resultCache.get(project);
  if (!cache) resultCache.set(project, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.version === ix.version) return hit.slots;
  let labelClass: number | undefined;
  if (q.label === null) labelClass = -1;
  else if (q.label !== undefined) labelClass = repoOf(project.db, LabelsRepo).classId(ix.labelSetId, q.label) ?? -2;
  const slots = querySlots(project, ix, {
    labelClass,
    annotator: q.annotator,
    search: q.search,
    ids: q.ids,
    filters: q.filters,
    sort: q.sort,
    quality: q.quality,
  });
  cache.delete(key);
  cache.set(key, { version: ix.version, slots });
  while (cache.size > RESULT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return slots;
}

/** All readable images, unlabelled ones and the count per class: independent of the filter, a pass over the index. */
function projectCounts(project: Project, ix: GridIndex): Omit<BrowseCounts, 'total'> {
  const perClass = new Map<number, number>();
  let unlabelled = 0;
  for (const c of ix.label) {
    if (c < 0) unlabelled++;
    else perClass.set(c, (perClass.get(c) ?? 0) + 1);
  }
  const classes = repoOf(project.db, BrowseRepo).classes(ix.labelSetId);
  return { all: ix.ids.length, unlabelled, classes: classes.map((c) => ({ name: c.name, hotkey: c.hotkey, color: c.color, count: perClass.get(c.id) ?? 0 })) };
}

/** A page of the grid: filter by label, annotator, id text, any metadata field; sort by any field; counts on the first page. */
export function listImages(project: Project, q: ListQuery): ImageList {
  const ix = gridIndex(project);
  const slots = orderedSlots(project, q, ix);
  const page = Array.from(slots.subarray(q.offset, q.offset + q.limit), (slot) => ix.ids[slot]!);
  const rows = repoOf(project.db, BrowseRepo).gridItems(ix.labelSetId, page);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const items = page.map((id) => {
    const r = byId.get(id)!;
    return {
      id: r.id,
      externalId: r.external_id,
      label: r.label,
      unsure: r.unsure === 1,
      suggestion: r.s_label ? { label: r.s_label, probability: r.s_p! } : null,
    };
  });
  if (!(q.counts ?? q.offset === 0)) return { offset: q.offset, items, counts: null };
  return { offset: q.offset, items, counts: { total: slots.length, ...projectCounts(project, ix) } };
}

/** Values to filter on: per field, the observed values (categories, ordinals, booleans) or range (numbers), and missing. */
export function browseFacets(project: Project): BrowseFacets {
  const db = project.db;
  const browse = repoOf(db, BrowseRepo);
  const all = browse.readableImages();
  const out: FieldSummary[] = repoOf(db, FieldsRepo)
    .list()
    .map((f) => {
      const { present, min, max } = browse.fieldPresence(f.id);
      const values =
        f.type === 'number'
          ? []
          : browse
              .valueCounts(f.id, f.type === 'category' || f.type === 'text' ? 'text' : 'num')
              .map((r) => ({ value: f.type === 'boolean' ? r.value === 1 : r.value, count: r.count }));
      return { name: f.name, displayName: f.display_name, type: f.type, unit: f.unit, missing: all - present, min, max, values };
    });
  const setId = repoOf(db, LabelsRepo).primarySet()?.id ?? -1;
  return { fields: out, annotators: browse.annotators(setId) };
}

export function imageDetail(project: Project, id: number): ImageDetail {
  const db = project.db;
  const browse = repoOf(db, BrowseRepo);
  const row = browse.imageHeader(id);
  if (!row) throw new DermFuseError('NOT_FOUND', `No image ${id} in this project.`);
  const set = repoOf(db, LabelsRepo).primarySet();
  const history = set ? browse.labelHistory(id, set.id) : [];
  const fieldsRepo = repoOf(db, FieldsRepo);
  const fields = fieldsRepo.list();
  const metadata: Record<string, FieldValue> = {};
  for (const f of fields) metadata[f.name] = fieldsRepo.value(id, f)?.value ?? null;
  const related = (kind: 'lesion' | 'patient', v: number | null) => (v === null ? [] : browse.related(kind, v, id));
  const current = history.find((h) => h.withdrawn_at === null);
  const s = browse.suggestionOf(id);
  return {
    suggestion: s ? { label: s.label, probability: s.probability } : null,
    id: row.id,
    externalId: row.external_id,
    label: current?.label ?? null,
    unsure: current?.unsure === 1,
    width: row.width,
    height: row.height,
    patient: row.patient,
    lesion: row.lesion,
    metadata,
    fields: fields.map(toField),
    history: history.map((h) => ({ label: h.label, unsure: h.unsure === 1, author: h.author, source: h.source, at: h.at, withdrawn: h.withdrawn_at !== null })),
    fieldHistory: browse.metadataHistory(id),
    sameLesion: related('lesion', row.lesion_id),
    samePatient: related('patient', row.patient_id),
  };
}

/** Every image a browser filter matches, in the grid's order (a labelling task is made from these). */
export function matchingIds(project: Project, q: Omit<ListQuery, 'offset' | 'limit'>): number[] {
  const ix = gridIndex(project);
  return Array.from(orderedSlots(project, { ...q, offset: 0, limit: 1 }, ix), (slot) => ix.ids[slot]!);
}
