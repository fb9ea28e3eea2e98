import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** A command line that does not fit the command's usage (an unknown or missing flag or argument): the usage follows it. */
export class UsageError extends DermFuseError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** A value that reads as a negative number (`-2`, `-0.5`, `-1e3`): a flag's value, not another flag. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/**
 * `--folds -2` as `--folds=-2`: Node's parser takes a value that starts with a dash for a flag of its own ("argument
 * is ambiguous"), so the value's check, which names the flag and says what it takes, would never be reached.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = argv[i + 1];
    if (flag.startsWith('--') && options[flag.slice(2)]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${flag}=${next}`);
      i++;
    } else out.push(flag);
  }
  return out;
}

/** Parses a command's arguments; unknown flags and missing positionals are usage errors naming the flag, in one line. */
export function parseCommand(
  argv: string[],
  options: Options,
  positionals: string[],
): { values: Record<string, string | boolean | undefined>; args: string[] } {
  let parsed;
  const all: Options = { ...options, json: { type: 'boolean' }, help: { type: 'boolean' } };
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv, all), options: all, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's messages run over several lines (and an unknown flag's into how to pass a positional); the start says it.
    const first = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(first);
    throw new UsageError(ambiguous ? `${ambiguous[1]} takes a value; for one that starts with a dash write ${ambiguous[1]}=VALUE` : first);
  }
  if (parsed.positionals.length < positionals.length && !parsed.values.help) {
    throw new UsageError(`missing ${positionals.slice(parsed.positionals.length).join(' ')}`);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, args: parsed.positionals };
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function optionalString(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole number above 0 (and at most `max`) from a flag named without its dashes; undefined when the flag is absent. */
export function positiveInt(v: string | undefined, flag: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return wholeNumber(v, flag, 1, max);
}

/** A whole number from `min` to `max` from a flag named without its dashes; undefined when the flag is absent. */
export function wholeNumber(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `above ${min - 1}` : `from ${min} to ${max}`;
    throw new DermFuseError('INVALID_ARGUMENT', `--${flag} takes a whole number ${range}, got "${v}"`);
  }
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
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  if (issue.code === 'invalid_type' && issue.expected === 'number') throw new DermFuseError('INVALID_ARGUMENT', `${flag} takes a number, got "${shown}"`);
  if (issue.code === 'invalid_type' && issue.expected === 'int') throw new DermFuseError('INVALID_ARGUMENT', `${flag} takes a whole number, got "${shown}"`);
  if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.path.length === 1 && Array.isArray(value) && issue.origin === 'array')
    throw new DermFuseError(
      'INVALID_ARGUMENT',
      `${flag} takes ${String(issue.code === 'too_big' ? issue.maximum : issue.minimum)} comma-separated values, got "${shown}"`,
    );
  // Zod's own words for a bound ("Too small: expected number to be >=16") read as a program's; a custom one stays.
  if ((issue.code === 'too_small' || issue.code === 'too_big') && issue.origin === 'number' && /^Too (small|big)/.test(issue.message)) {
    const bound = issue.code === 'too_small' ? `at least ${String(issue.minimum)}` : `at most ${String(issue.maximum)}`;
    throw new DermFuseError('INVALID_ARGUMENT', `${flag} takes a number ${bound}, got "${shown}"`);
  }
  if (issue.code === 'invalid_value') throw new DermFuseError('INVALID_ARGUMENT', `${flag} must be one of ${issue.values.join(', ')}, got "${shown}"`);
  throw new DermFuseError('INVALID_ARGUMENT', `${flag}: ${issue.message} (got "${shown}")`);
}

/** How a flag's text becomes a request field: as is, a number, a comma list, a list of numbers, or an on/off switch. */
export type FlagKind = 'text' | 'number' | 'list' | 'numbers' | 'switch';

/**
 * Flags declared once for a command: from request fields and their kinds come both the parser's options (kebab-case
 * names: `inputSize` is `--input-size`) and the reading of the parsed values into the request, which the contract's
 * schema then checks (parseFlags).
 */
export function flagSet<F extends string>(fields: Record<F, FlagKind>): { options: Options; read(values: Record<string, unknown>): Record<F, unknown> } {
  const entries = Object.entries(fields) as [F, FlagKind][];
  return {
    options: Object.fromEntries(entries.map(([f, kind]) => [kebab(f), { type: kind === 'switch' ? 'boolean' : 'string' }])) as Options,
    read(values) {
      const read = (f: F, kind: FlagKind): unknown => {
        const raw = values[kebab(f)];
        if (kind === 'switch') return raw === true ? true : undefined;
        const text = typeof raw === 'string' ? raw : undefined;
        if (kind === 'number') return numberFlag(text);
        if (kind === 'list' || kind === 'numbers') return listFlag(text, kind === 'numbers');
        return text;
      };
      return Object.fromEntries(entries.map(([f, kind]) => [f, read(f, kind)])) as Record<F, unknown>;
    },
  };
}

/** "a=b,c=d" as a record; undefined when absent. With `emptyValues`, "a=" maps a to "" (leave out, read as missing). */
export function parsePairs(spec: string | undefined, flag: string, shape: string, emptyValues = false): Record<string, string> | undefined {
  if (!spec) return undefined;
  const out: Record<string, string> = {};
  for (const pair of spec.split(',')) {
    const at = pair.indexOf('=');
    const key = (at < 0 ? pair : pair.slice(0, at)).trim();
    const value = at < 0 ? '' : pair.slice(at + 1).trim();
    if (!key || at < 0 || (!value && !emptyValues)) throw new DermFuseError('INVALID_ARGUMENT', `${flag}: "${pair}" should be ${shape}`);
    out[key] = value;
  }
  return out;
}
