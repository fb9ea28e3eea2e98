/** Named loggers writing to stderr, so stdout stays clean for `--json`. Level from DERMFUSE_LOG (default warn). */
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

function threshold(): number {
  const wanted = (process.env.DERMFUSE_LOG ?? 'warn') as Level;
  const i = LEVELS.indexOf(wanted);
  return i < 0 ? 2 : i;
}

export interface Logger {
  debug(msg: string, extra?: unknown): void;
  info(msg: string, extra?: unknown): void;
  warn(msg: string, extra?: unknown): void;
  error(msg: string, extra?: unknown): void;
}

export function logger(name: string): Logger {
  const write = (level: Level, msg: string, extra?: unknown): void => {
    if (LEVELS.indexOf(level) < threshold()) return;
    const tail = extra === undefined ? '' : ` ${extra instanceof Error ? extra.stack : JSON.stringify(extra)}`;
    process.stderr.write(`[${new Date().toISOString()}] ${level} ${name}: ${msg}${tail}\n`);
  };
  return {
    debug: (m, e) => write('debug', m, e),
    info: (m, e) => write('info', m, e),
    warn: (m, e) => write('warn', m, e),
    error: (m, e) => write('error', m, e),
  };
}
