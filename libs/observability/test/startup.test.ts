import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkPortsFree, formatStartupFailure, parseFlags, startupFormat } from '@qsys-mcp/observability';

describe('start-up failures', () => {
  const failure = { service: 'gateway', msg: 'invalid configuration', configFile: 'x.json', problems: ['MCP_HTTP_PORT: expected number, got "x"', 'rateLimiting.perClinet: got an unknown key'] };

  it('are lines for a person on a terminal and one JSON line otherwise, LOG_FORMAT winning', () => {
    expect(startupFormat({}, { isTTY: true })).toBe('text');
    expect(startupFormat({}, { isTTY: false })).toBe('json');
    expect(startupFormat({}, {})).toBe('json');
    expect(startupFormat({ LOG_FORMAT: 'json' }, { isTTY: true })).toBe('json');
    expect(startupFormat({ LOG_FORMAT: 'text' }, {})).toBe('text');
  });

  it('print one line per problem under a heading as text', () => {
    expect(formatStartupFailure(failure, 'text')).toBe(
      'gateway: invalid configuration (config file x.json):\n  MCP_HTTP_PORT: expected number, got "x"\n  rateLimiting.perClinet: got an unknown key\n',
    );
    expect(formatStartupFailure({ service: 'audit', msg: 'port 9092 is in use: set HEALTH_PORT' }, 'text')).toBe('audit: port 9092 is in use: set HEALTH_PORT\n');
  });

  it('print one JSON line with the problems array for a log collector', () => {
    const text = formatStartupFailure(failure, 'json');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(text)).toEqual({ level: 'fatal', ...failure });
  });
});

describe('parseFlags', () => {
  const flags = { stdio: { type: 'boolean' }, config: { type: 'string', takes: 'a file path' } } as const;
  const expected = '--stdio or --config PATH';

  it('reads --flag, --flag VALUE and --flag=VALUE', () => {
    expect(parseFlags(['--stdio', '--config', 'a.json'], flags, expected)).toEqual({ values: { stdio: true, config: 'a.json' }, positionals: [], problems: [] });
    expect(parseFlags(['--config=b.json'], flags, expected).values).toEqual({ config: 'b.json' });
  });

  it('lists every problem, not only the first', () => {
    expect(parseFlags(['--confg', 'x.json', '--stdio=yes', '--config'], flags, expected).problems).toEqual([
      '"--confg": expected --stdio or --config PATH, got an unknown argument',
      '"x.json": expected --stdio or --config PATH, got an unknown argument',
      '--stdio: expected no value, got "yes"',
      '--config: expected a file path, got nothing',
    ]);
    expect(parseFlags(['--config', '--stdio'], flags, expected).problems).toEqual(['--config: expected a file path, got nothing']);
    expect(parseFlags(['--config='], flags, expected).problems).toEqual(['--config: expected a file path, got nothing']);
  });
});

describe('checkPortsFree', () => {
  it('names a port another process holds and the setting to change, and passes free ones and 0', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const port = (holder.address() as { port: number }).port;
    try {
      expect(await checkPortsFree([{ host: '127.0.0.1', port: 0, setting: 'A' }, { host: '127.0.0.1', port, setting: 'MCP_HTTP_PORT or http.port' }])).toEqual([
        `port ${port} is in use: set MCP_HTTP_PORT or http.port`,
      ]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(await checkPortsFree([{ host: '127.0.0.1', port, setting: 'X' }])).toEqual([]);
  });
});
