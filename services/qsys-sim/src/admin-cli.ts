#!/usr/bin/env node
import { CLI_USAGE, CliUsageError, parseCliArgs, type CliRequest } from './admin/cli-args.js';

// The simulator's admin CLI: one command -> one HTTP request -> the JSON answer on stdout.
// A command-line tool, so it writes to stdout/stderr directly (no logger).

async function run(request: CliRequest): Promise<number> {
  let res: Response;
  try {
    res = await fetch(request.url, {
      method: request.method,
      ...(request.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    process.stderr.write(`cannot reach the simulator's admin interface at ${request.url} (${err instanceof Error ? err.message : String(err)}${cause})\n`);
    return 1;
  }
  const text = await res.text();
  let out = text;
  try {
    out = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON: print it as it came.
  }
  process.stdout.write(`${out.trimEnd()}\n`);
  return res.ok ? 0 : 1;
}

let request: CliRequest | 'help';
try {
  request = parseCliArgs(process.argv.slice(2), process.cwd());
} catch (err) {
  if (!(err instanceof CliUsageError)) throw err;
  process.stderr.write(`${err.message}\n(--help lists the commands)\n`);
  process.exit(2);
}
if (request === 'help') {
  process.stdout.write(`${CLI_USAGE}\n`);
} else {
  process.exitCode = await run(request);
}
