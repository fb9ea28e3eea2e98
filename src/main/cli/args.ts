import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses a command's arguments; unknown flags and missing positionals are usage errors naming the flag. */
export function parseCommand(
  argv: string[],
  options: Options,
  positionals: string[],
): { values: Record<string, string | boolean | undefined>; args: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new DermFuseError('INVALID_ARGUMENT', (err as Error).message);
  }
  if (parsed.positionals.length < positionals.length && !parsed.values.help) {
    throw new DermFuseError('INVALID_ARGUMENT', `missing ${positionals.slice(parsed.positionals.length).join(' ')}`);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, args: parsed.positionals };
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new DermFuseError('INVALID_ARGUMENT', `--${name} is required`);
  return v;
}

export function optionalString(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole number above 0 from a flag; undefined when the flag is absent. */
export function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new DermFuseError('INVALID_ARGUMENT', `--${flag} takes a whole number above 0, got "${v}"`);
  return n;
}

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A flag's text as a number when it reads as one; otherwise the text, so the schema's message names it. */
export function numberFlag(v: string | undefined): number | string | undefined {
  return v === undefined || v.trim() === '' || !Number.isFinite(Number(v)) ? v : Number(v);
}

/** A comma-separated flag as a list (empty items dropped); with `numbers`, each item as a number where it reads as one. */
export function listFlag(v: string | undefined, numbers = false): (string | number)[] | undefined {
  if (v === undefined) return undefined;
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return numbers ? items.map((x) => numberFlag(x)!) : items;
}

/**
 * Checks flags through the contract's own schema, so the command line and the app share one rule and one default
 * per option; a failure names the flag (`--folds` for the field `folds`, `--input-size` for `inputSize`).
 */
export function parseFlags<S extends z.ZodType>(schema: S, input: Record<string, unknown>, flagNames: Record<string, string> = {}): z.output<S> {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const flag = `--${flagNames[field] ?? kebab(field)}`;
  const value = given[field];
  const shown = Array.isArray(value) ? value.join(',') : String(value);
  if (value === undefined || value === '') throw new DermFuseError('INVALID_ARGUMENT', `${flag} is required`);
  if (issue.code === 'invalid_type' && issue.expected === 'number') throw new DermFuseError('INVALID_ARGUMENT', `${flag} takes a number, got "${shown}"`);
  if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.path.length === 1 && Array.isArray(value) && issue.origin === 'array')
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `${flag} takes ${String(issue.code === 'too_big' ? issue.maximum : issue.minimum)} comma-separated values, got "${shown}"`,
    );
  if (issue.code === 'invalid_value') throw new DermFuseError('INVALID_ARGUMENT', `${flag} must be one of ${issue.values.join(', ')}, got "${shown}"`);
  throw new DermFuseError('INVALID_ARGUMENT', `${flag}: ${issue.message} (got "${shown}")`);
}
