import { describe, expect, it } from 'vitest';
import { count } from '../../src/renderer/src/plural.ts';

describe('count', () => {
  it('says "1 row" and "2 rows", and takes an irregular plural', () => {
    expect(count(1, 'row')).toBe('1 row');
    expect(count(0, 'problem')).toBe('0 problems');
    expect(count(2, 'problem')).toBe('2 problems');
    expect(count(3, 'patient', 'patients')).toBe('3 patients');
    expect(count(1, 'analysis', 'analyses')).toBe('1 analysis');
  });
});
