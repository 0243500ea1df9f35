import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { protoArgumentCallId } from './mcp-input.js';

/** Longest line kept while looking for its end, characters (the SDK's stdio read buffer is 10 MB). */
const MAX_LINE_CHARS = 10 * 1024 * 1024;

/**
 * The stdio side of the HTTP guard's `__proto__` check: the SDK's stdio transport parses each
 * line with a schema that drops a `__proto__` key from tool arguments, so the handler would never
 * see it. This stream passes stdin through unchanged and, for every `tools/call` line whose
 * `params.arguments` has an own `__proto__` key, adds the call's id (`JSON.stringify`d) to
 * `flagged`, which the handler consults (and empties) like the HTTP guard's header.
 */
export function inspectStdin(stdin: Readable, flagged: Set<string>): Readable {
  let partial = '';
  const inspect = (line: string): void => {
    if (!line.includes('__proto__')) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    for (const m of Array.isArray(message) ? message : [message]) {
      const id = protoArgumentCallId(m);
      if (id !== undefined) flagged.add(id);
    }
  };
  const transform = new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback) {
      const text = partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_LINE_CHARS) partial = '';
      for (const line of lines) inspect(line);
      done(null, chunk);
    },
  });
  stdin.on('error', (err) => transform.destroy(err));
  return stdin.pipe(transform);
}
