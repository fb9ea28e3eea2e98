/**
 * ROC AUC of many subgroups at once, with each image counted `weight[i]` times (a bootstrap resample as counts):
 * one pass over the images sorted by score, Mann-Whitney with ties counted half. Sorting once per mode and class
 * instead of once per subgroup and resample makes a subgroup table with hundreds of resamples fast enough to open.
 */
export interface ScoreOrder {
  /** Image indices by ascending score of one class. */
  order: Int32Array;
  scores: Float64Array;
  /** The class whose one-vs-rest AUC this is. */
  cls: number;
}

/** The ascending order of every class's scores (binary: the positive class only). */
export function scoreOrders(probs: Float64Array, classes: number, n: number): ScoreOrder[] {
  const wanted = classes === 2 ? [1] : Array.from({ length: classes }, (_, c) => c);
  return wanted.map((cls) => {
    const scores = Float64Array.from({ length: n }, (_, i) => probs[i * classes + cls]!);
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
    return { order, scores, cls };
  });
}

/**
 * Per subgroup: the AUC (macro over classes for multiclass, classes without both sides skipped), or NaN where no
 * class has both positives and negatives. `minPerClass`: a subgroup needs this (weighted) many images of at least
 * two classes (binary: of both), else NaN.
 */
export function groupAucs(
  orders: ScoreOrder[],
  labels: Int32Array,
  groupOf: Int32Array,
  weight: ArrayLike<number>,
  groups: number,
  classes: number,
  minPerClass: number,
): Float64Array {
  const perClass = new Float64Array(groups * classes);
  for (let i = 0; i < labels.length; i++) perClass[groupOf[i]! * classes + labels[i]!]! += weight[i]!;
  const sum = new Float64Array(groups);
  const count = new Float64Array(groups);
  const pos = new Float64Array(groups);
  const negBelow = new Float64Array(groups);
  const u = new Float64Array(groups);
  const blockPos = new Float64Array(groups);
  const blockNeg = new Float64Array(groups);
  const touched: number[] = [];
  for (const { order, scores, cls } of orders) {
    pos.fill(0);
    negBelow.fill(0);
    u.fill(0);
    let k = 0;
    while (k < order.length) {
      // One block of tied scores: positives in it beat the negatives below and tie with those inside.
      const s = scores[order[k]!]!;
      let end = k;
      while (end < order.length && scores[order[end]!] === s) {
        const i = order[end]!;
        const w = weight[i]!;
        if (w > 0) {
          const g = groupOf[i]!;
          if (blockPos[g] === 0 && blockNeg[g] === 0) touched.push(g);
          if (labels[i] === cls) blockPos[g]! += w;
          else blockNeg[g]! += w;
        }
        end++;
      }
      for (const g of touched) {
        u[g]! += blockPos[g]! * (negBelow[g]! + 0.5 * blockNeg[g]!);
        negBelow[g]! += blockNeg[g]!;
        pos[g]! += blockPos[g]!;
        blockPos[g] = 0;
        blockNeg[g] = 0;
      }
      touched.length = 0;
      k = end;
    }
    for (let g = 0; g < groups; g++) {
      if (pos[g]! > 0 && negBelow[g]! > 0) {
        sum[g]! += u[g]! / (pos[g]! * negBelow[g]!);
        count[g]!++;
      }
    }
  }
  const out = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    let enough = 0;
    for (let c = 0; c < classes; c++) if (perClass[g * classes + c]! >= minPerClass) enough++;
    out[g] = (classes === 2 ? enough === 2 : enough >= 2) && count[g]! > 0 ? sum[g]! / count[g]! : NaN;
  }
  return out;
}
