import type { z } from 'zod';
import { DermFuseError } from '../../shared/errors.ts';

/**
 * A JSON column read through its schema: a value written by another program or an older DermFuse that does not
 * fit is an error naming `what` and the field, not a wrong value passed on. `what` reads like "Run 3: its result".
 */
export function jsonColumn<T>(json: string, schema: z.ZodType<T>, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new DermFuseError('INVALID_VALUE', `${what} is not valid JSON (the project file was changed outside DermFuse).`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DermFuseError('INVALID_VALUE', `${what} is damaged at ${issue?.path.join('.') || 'the top'}: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}
