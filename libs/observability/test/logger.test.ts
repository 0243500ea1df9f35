import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger, lazyChild } from '../src/index.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ name: 'test', level, destination });
  return { logger, lines };
}

describe('lazyChild', () => {
  it('writes lines with the bindings, as the child would', () => {
    const { logger, lines } = capture('info');
    const log = lazyChild(logger, { requestId: 'r-1', clientId: 'c-1' });
    log.info({ durationMs: 3 }, 'tool call');
    log.child({ component: 'x' }).warn('nested');
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'tool call', requestId: 'r-1', clientId: 'c-1', durationMs: 3, service: 'test' }),
      expect.objectContaining({ level: 'warn', msg: 'nested', requestId: 'r-1', component: 'x' }),
    ]);
  });

  it('builds no child for lines below the level, and answers isLevelEnabled from the parent', () => {
    const { logger, lines } = capture('warn');
    const child = vi.spyOn(logger, 'child');
    const log = lazyChild(logger, { requestId: 'r-2' });
    log.info('dropped');
    log.debug({ a: 1 }, 'dropped too');
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.isLevelEnabled('error')).toBe(true);
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);

    log.error({ code: 'X' }, 'kept');
    expect(child).toHaveBeenCalledTimes(1);
    log.warn('kept too');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([['kept', 'r-2'], ['kept too', 'r-2']]);
  });

  it('redacts secrets in the bindings and the fields, as every logger does', () => {
    const { logger, lines } = capture('info');
    lazyChild(logger, { token: 'example-secret-token' }).info({ apiKey: 'example-key' }, 'line');
    expect(JSON.stringify(lines)).not.toContain('example-secret-token');
    expect(JSON.stringify(lines)).not.toContain('example-key');
    expect(lines[0]).toMatchObject({ token: '[REDACTED]', apiKey: '[REDACTED]' });
  });
});
