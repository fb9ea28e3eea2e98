import { ZodError } from 'zod';
import { DermFuseError, firstIssue, toErrorPayload, type ErrorPayload } from '../../shared/errors.ts';
import { parseCommand, UsageError } from './args.ts';
import { COMMANDS as BASE_COMMANDS } from './commands.ts';
import { ML_COMMANDS } from './mlCommands.ts';
import { QUALITY_COMMANDS } from './qualityCommands.ts';
import { RUN_COMMANDS } from './runCommands.ts';
import { TEAM_COMMANDS } from './teamCommands.ts';
import { EXPLAIN_COMMANDS } from './explainCommands.ts';
import { VALIDATE_COMMANDS } from './validateCommands.ts';

/**
 * Every command, by name. Command files load TF.js, sharp and ONNX Runtime inside their `run` (`await import`), never
 * at the top: a command that needs none (info, users, runs) starts in 0.3 s instead of 0.7 s. test/unit/cliStartup.test.ts
 * holds this.
 */
const COMMANDS = { ...BASE_COMMANDS, ...ML_COMMANDS, ...RUN_COMMANDS, ...QUALITY_COMMANDS, ...TEAM_COMMANDS, ...EXPLAIN_COMMANDS, ...VALIDATE_COMMANDS };

/**
 * After Ctrl+C (or SIGTERM) a command finishes the work in flight and stops; if it has not within this long, the
 * process quits anyway. Writes are transactions, so quitting loses only the batch in flight, never consistency.
 */
const STOP_GRACE_MS = 10_000;

/**
 * What went wrong, for stderr: one line for a DermFuseError (written for people) and for a value a schema refused
 * deeper down (by its field), never a raw issue list or a stack; only an unexpected error keeps its stack, for a
 * bug report.
 */
function errorLines(name: string, err: unknown): { payload: ErrorPayload; text: string } {
  const payload = err instanceof ZodError ? { code: 'INVALID_VALUE' as const, message: firstIssue(err) } : toErrorPayload(err);
  const line = `dermfuse ${name}: ${payload.message.replace(/\s*\n\s*/g, ' ')}\n`;
  const unexpected = payload.code === 'INTERNAL' && !(err instanceof DermFuseError);
  return { payload, text: unexpected ? `${line}${(err as Error).stack ?? ''}\n` : line };
}

function usage(): string {
  const lines = ['Usage: dermfuse COMMAND [options]   (every command takes --json)', ''];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`, `               ${c.usage}`);
  return lines.join('\n');
}

/** Runs the CLI; returns the exit code. With --json, stdout carries exactly one JSON object. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`dermfuse: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('dermfuse: stopping (work done so far is kept; Ctrl+C again to quit at once)\n');
    controller.abort();
    setTimeout(() => {
      process.stderr.write(`dermfuse: did not stop within ${STOP_GRACE_MS / 1000} s; quitting (finished batches are kept)\n`);
      process.exit(130);
    }, STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let json = false;
  try {
    const { values, args } = parseCommand(rest, command.options, command.positionals);
    json = values.json === true;
    if (values.help) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    const showProgress = process.stderr.isTTY === true || process.env.DERMFUSE_PROGRESS === '1';
    const result = await command.run(values, args, {
      signal: controller.signal,
      progress: (line) => {
        if (showProgress) process.stderr.write(`${line}\n`);
      },
    });
    if (result) process.stdout.write(json ? `${JSON.stringify(result.json)}\n` : `${result.text}\n`);
    return 0;
  } catch (err) {
    const { payload: e, text } = errorLines(name, err);
    process.stderr.write(text);
    // The usage helps a command line that does not fit it; after a wrong value, the line above says what to give.
    if (err instanceof UsageError) process.stderr.write(`usage: ${command.usage}\n`);
    return e.code === 'CANCELLED' ? 130 : e.code === 'INVALID_ARGUMENT' ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    void json;
  }
}
