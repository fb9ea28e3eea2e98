// The `dermfuse` command: bin/dermfuse.mjs runs this file from source through tsx; the build writes it to
// out/main/cli/bin.js, which starts without compiling anything.
import { main } from './main.ts';

// `dermfuse … | head` closes stdout early: that is the reader's choice, not an error to print a stack for.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
