import { parseArgs, type ParseArgsConfig } from 'node:util';
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
