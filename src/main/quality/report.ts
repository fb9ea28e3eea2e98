import { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';
import type { DuplicateDecision, DuplicateGroup, DuplicatePair, DuplicateReport, QualityScanSummary } from '../../shared/quality.ts';
import { repoOf } from '../db/open.ts';
import { QualityRepo } from '../db/repos/qualityRepo.ts';
import { SettingsRepo } from '../db/repos/settingsRepo.ts';
import type { Project } from '../project.ts';
import { jsonColumn } from '../db/json.ts';
import { connectedGroups, RULE_TEXT } from './pairs.ts';

/** The last scan's summary as stored in the settings (by scan.ts). */
const StoredScan = z.object({
  images: z.number(),
  hashed: z.number(),
  withoutFeatures: z.number(),
  pairs: z.number(),
  groups: z.number(),
  crossPatientGroups: z.number(),
  crossLesionGroups: z.number(),
  labelConflictGroups: z.number(),
  outliers: z.number(),
  seconds: z.number(),
  extractSeconds: z.number(),
  hashSeconds: z.number(),
  pairSeconds: z.number(),
  failures: z.array(z.object({ source: z.string(), message: z.string() })),
  featureKey: z.string().nullable(),
  rule: z.string(),
  at: z.string(),
});

/** Settings key of the last scan's summary. */
export const SCAN_SETTING = 'quality.scan';

const pairKey = (a: number, b: number) => `${Math.min(a, b)}:${Math.max(a, b)}`;

/** Every pair the last scan found or an annotator decided on, with its latest decision. */
function knownPairs(repo: QualityRepo): Map<string, DuplicatePair> {
  const reviews = new Map(repo.reviews().map((r) => [pairKey(r.a, r.b), r]));
  const pairs = new Map<string, DuplicatePair>();
  for (const p of repo.pairs()) {
    const r = reviews.get(pairKey(p.a, p.b));
    pairs.set(pairKey(p.a, p.b), {
      a: p.a,
      b: p.b,
      hashBits: p.hash_bits,
      cosine: p.cosine,
      score: p.score,
      decision: r?.decision ?? null,
      author: r?.author ?? null,
      decidedAt: r?.created_at ?? null,
    });
  }
  // A decided pair the last scan did not find (a dismissed one, or one the rule no longer reaches) stays decided.
  for (const r of reviews.values()) {
    if (!pairs.has(pairKey(r.a, r.b)))
      pairs.set(pairKey(r.a, r.b), {
        a: r.a,
        b: r.b,
        hashBits: null,
        cosine: null,
        score: null,
        decision: r.decision,
        author: r.author,
        decidedAt: r.created_at,
      });
  }
  return pairs;
}

/** Connected groups of the given pairs, with their members' facts; `dismissed`: pairs said to be different images. */
function groupsOf(repo: QualityRepo, pairs: readonly DuplicatePair[], dismissed: boolean): DuplicateGroup[] {
  const ids = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].sort((x, y) => x - y);
  const index = new Map(ids.map((id, i) => [id, i]));
  return connectedGroups(
    ids.length,
    pairs.map((p) => ({ a: index.get(p.a)!, b: index.get(p.b)! })),
  ).map((members) => {
    const memberIds = members.map((i) => ids[i]!);
    const inGroup = new Set(memberIds);
    const rows = repo.memberRows(memberIds);
    const groupPairs = pairs.filter((p) => inGroup.has(p.a));
    const distinct = (xs: (string | null)[]) => new Set(xs.filter((x) => x !== null)).size;
    const decided = groupPairs.filter((p) => p.decision === 'same').length;
    return {
      id: memberIds[0]!,
      members: rows.map((r) => ({ id: r.id, externalId: r.external_id, patient: r.patient, lesion: r.lesion, label: r.label })),
      pairs: groupPairs,
      spansPatients: distinct(rows.map((r) => r.patient)) > 1,
      spansLesions: distinct(rows.map((r) => r.lesion)) > 1,
      labelsDisagree: distinct(rows.map((r) => r.label)) > 1,
      status: dismissed ? 'dismissed' : decided === 0 ? 'unreviewed' : decided === groupPairs.length ? 'confirmed' : 'partly',
    };
  });
}

/**
 * The near-duplicate groups for review: images joined by the last scan's pairs and by confirmed pairs, except
 * pairs an annotator dismissed (those make groups of their own, status 'dismissed', listed last, so a decision can be
 * taken back); spanning patients or lesions, or with disagreeing labels, flagged. Groups that span patients come
 * first (a likely identity error or a leak), then those whose labels disagree.
 */
export function duplicateReport(project: Project): DuplicateReport {
  const repo = repoOf(project.db, QualityRepo);
  const pairs = knownPairs(repo);
  const live = [...pairs.values()].filter((p) => p.decision !== 'different');
  const groups = [
    ...groupsOf(repo, live, false),
    ...groupsOf(
      repo,
      [...pairs.values()].filter((p) => p.decision === 'different'),
      true,
    ),
  ];
  // Dismissed last; then leaks across patients first, then disagreeing labels.
  const rank = (g: DuplicateGroup) => (g.status === 'dismissed' ? 4 : 0) + (g.spansPatients ? 0 : 2) + (g.labelsDisagree ? 0 : 1);
  groups.sort((x, y) => rank(x) - rank(y) || x.id - y.id);
  const stored = repoOf(project.db, SettingsRepo).get(SCAN_SETTING);
  return {
    scan: stored ? (jsonColumn(stored, StoredScan, 'The stored quality scan summary') satisfies QualityScanSummary & { at: string }) : null,
    rule: RULE_TEXT,
    groups,
    dismissedPairs: [...pairs.values()].filter((p) => p.decision === 'different').length,
  };
}

/**
 * Records an annotator's decision on every near-duplicate pair among the images given (a group), or, with `detach`,
 * on that image's pairs with the others only: all or none. Returns how many pairs it decided.
 */
export function reviewGroup(project: Project, imageIds: readonly number[], decision: DuplicateDecision, author: string, detach?: number): { pairs: number } {
  const wanted = new Set(imageIds);
  if (detach !== undefined && !wanted.has(detach)) throw new DermFuseError('INVALID_ARGUMENT', `Image ${detach} is not one of the group's images.`);
  const pairs = [...knownPairs(repoOf(project.db, QualityRepo)).values()].filter(
    (p) => wanted.has(p.a) && wanted.has(p.b) && (detach === undefined || p.a === detach || p.b === detach),
  );
  if (pairs.length === 0) throw new DermFuseError('NOT_FOUND', 'No near-duplicate pairs among these images: run the scan again and reload the list.');
  repoOf(project.db, QualityRepo).review(pairs, decision, author);
  return { pairs: pairs.length };
}
