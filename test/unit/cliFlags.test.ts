import { describe, expect, it } from 'vitest';
import { ExtractRequestSchema, ImportRequestSchema, TrainRequestSchema } from '../../src/shared/api.ts';
import { listFlag, numberFlag, parseFlags } from '../../src/main/cli/args.ts';

// The command line checks its flags through the contract's schemas: the same rule as the app, a message naming the flag.
describe('command-line flags through the contract schemas', () => {
  const train = (flags: Record<string, string | undefined>) =>
    parseFlags(TrainRequestSchema, {
      label: flags.label,
      positive: listFlag(flags.positive),
      group: flags.group,
      folds: numberFlag(flags.folds),
      seed: numberFlag(flags.seed),
    });

  it('passes valid flags through with numbers and lists converted, absent ones left to the one set of defaults', () => {
    expect(train({ label: 'diagnosis', positive: 'BCC, MEL,,SCC', folds: '3' })).toEqual({ label: 'diagnosis', positive: ['BCC', 'MEL', 'SCC'], folds: 3 });
  });

  it.each([
    [{ folds: '1' }, '--folds: at least 2 folds (got "1")'],
    [{ folds: '2.5' }, '--folds takes a whole number, got "2.5"'],
    [{ folds: 'five' }, '--folds takes a number, got "five"'],
    [{ group: 'clinic' }, '--group must be one of patient, lesion, image, got "clinic"'],
    [{ seed: '0' }, '--seed takes a number at least 1, got "0"'],
    [{ label: undefined }, '--label is required'],
  ])('%o is refused with "%s"', (flags, message) => {
    expect(() => train({ label: 'diagnosis', ...flags })).toThrow(message);
  });

  it('names kebab-case flags and counts tuple values', () => {
    expect(() => parseFlags(ExtractRequestSchema, { inputSize: numberFlag('8') })).toThrow('--input-size takes a number at least 16, got "8"');
    expect(() => parseFlags(ExtractRequestSchema, { workers: numberFlag('200') })).toThrow('--workers: at most 16 workers (got "200")');
    expect(() => parseFlags(ExtractRequestSchema, { range: listFlag('-1,0,1', true) })).toThrow('--range takes 2 comma-separated values, got "-1,0,1"');
    expect(() => parseFlags(ExtractRequestSchema, { mean: listFlag('0.5,x,0.5', true) })).toThrow('--mean takes a number, got "0.5,x,0.5"');
    expect(parseFlags(ExtractRequestSchema, { mean: listFlag('0.485,0.456,0.406', true), batchSize: numberFlag('32') })).toEqual({
      mean: [0.485, 0.456, 0.406],
      batchSize: 32,
    });
  });

  it('names a flag that differs from its field (--images for imagesDir) and checks presets against the one list', () => {
    const flags = { imagesDir: 'images', metadataPath: 'metadata' };
    expect(() => parseFlags(ImportRequestSchema, { preset: 'isic' }, flags)).toThrow('--images is required');
    expect(() => parseFlags(ImportRequestSchema, { imagesDir: 'x', preset: 'derm7pt' }, flags)).toThrow(
      '--preset must be one of auto, isic, ham10000, pad-ufes-20, generic, got "derm7pt"',
    );
  });
});
