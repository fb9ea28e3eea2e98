import { describe, expect, it } from 'vitest';
import { verdictOf, type Comparison } from '../../src/shared/verdict.ts';

const cmp = (difference: number, lo: number, hi: number, p: number): Comparison => ({ difference, ci: [lo, hi], p });

describe('the verdict follows the best model and the paired tests', () => {
  it('says the photos add nothing when metadata only is best and fused is not better than it (the issue’s run)', () => {
    const v = verdictOf({
      auc: { image: 0.662, metadata: 0.869, fused: 0.857 },
      fusedVsImage: cmp(0.195, 0.12, 0.27, 0.001),
      fusedVsMetadata: cmp(-0.012, -0.05, 0.03, 0.58),
    });
    expect(v.best).toBe('metadata');
    expect(v.tone).toBe('none');
    expect(v.text).toMatch(/^Fused is no better than metadata alone here: the photos add nothing measurable/);
    expect(v.text).toContain('Metadata only scores highest (AUC 0.869 vs fused 0.857)');
    expect(v.text).not.toMatch(/helped/);
  });

  it('claims a gain only when fused beats both single models, naming the smaller gain', () => {
    const v = verdictOf({
      auc: { image: 0.8, metadata: 0.75, fused: 0.85 },
      fusedVsImage: cmp(0.05, 0.01, 0.09, 0.01),
      fusedVsMetadata: cmp(0.1, 0.05, 0.15, 0.001),
    });
    expect(v).toMatchObject({ best: 'fused', tone: 'gain' });
    expect(v.text).toMatch(/^Fusing helps: fused adds 0\.050 AUC or more over both single models/);
  });

  it('does not credit the metadata with beating the image when metadata only scores below image only', () => {
    const v = verdictOf({
      auc: { image: 0.8, metadata: 0.78, fused: 0.86 },
      fusedVsImage: cmp(0.06, 0.02, 0.1, 0.004),
      fusedVsMetadata: cmp(0.08, -0.01, 0.17, 0.09),
    });
    expect(v.text).toMatch(/^Fused is no better than metadata alone here/);
    expect(v.text).toContain('It does beat image only (fused − image = 0.060 AUC');
    expect(v.text).not.toMatch(/metadata is what|what beat/i);
  });

  it('says the metadata adds nothing when fused only beats metadata', () => {
    const v = verdictOf({
      auc: { image: 0.85, metadata: 0.7, fused: 0.86 },
      fusedVsImage: cmp(0.01, -0.02, 0.04, 0.4),
      fusedVsMetadata: cmp(0.16, 0.1, 0.2, 0.001),
    });
    expect(v.text).toMatch(/^Fused is no better than the image alone here: the metadata adds nothing measurable/);
  });

  it('says so when fused is worse than a single model, and when nothing differs', () => {
    expect(
      verdictOf({
        auc: { image: 0.7, metadata: 0.8, fused: 0.72 },
        fusedVsImage: cmp(0.02, -0.01, 0.05, 0.3),
        fusedVsMetadata: cmp(-0.08, -0.12, -0.03, 0.002),
      }),
    ).toMatchObject({ best: 'metadata', tone: 'worse' });
    expect(
      verdictOf({ auc: { image: 0.6, metadata: 0.61, fused: 0.62 }, fusedVsImage: cmp(0.02, -0.03, 0.07, 0.4), fusedVsMetadata: cmp(0.01, -0.04, 0.06, 0.7) })
        .text,
    ).toMatch(/^Fused is no better than either model alone here/);
  });
});
