import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startService } from '../../../test/support/processes.js';

// Runs the built gateway (`npx tsc -b tsconfig.build.json` first, as `npm test` does).
const INVALID = fileURLToPath(new URL('./fixtures/invalid-config.json', import.meta.url));
const SPEC = fileURLToPath(new URL('./fixtures/spec-config.json', import.meta.url));

interface Exit {
  code: number | null;
  fatal: { msg?: string; configFile?: string; problems?: string[] } | undefined;
  output: string;
}

async function runGateway(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  const proc = await startService({ name: 'gateway', script: 'services/gateway/dist/main.js', args, env, noReadyLine: true });
  // 'close' rather than 'exit': it comes after stderr has been read to the end.
  const [exitCode] = (await once(proc.child, 'close')) as [number | null];
  const output = proc.output();
  const line = output.split('\n').find((l) => l.includes('"invalid configuration"'));
  return { code: exitCode, fatal: line === undefined ? undefined : (JSON.parse(line) as Exit['fatal']), output };
}

describe('gateway process with an invalid configuration', () => {
  it('exits non-zero printing every problem of the --config file, and no secret', async () => {
    const { code, fatal, output } = await runGateway(['--config', INVALID], { MCP_HTTP_PORT: 'x' });
    expect(code).toBe(1);
    expect(fatal?.configFile).toBe(INVALID);
    expect(fatal?.problems).toHaveLength(16);
    expect(fatal?.problems).toEqual(
      expect.arrayContaining([
        'MCP_HTTP_PORT: expected number, got "x"',
        'transport: expected one of "http", "stdio", got "sse"',
        'qrwc.port: expected number, got "443"',
        expect.stringMatching(/^qrwc\.hots: expected one of the keys host, /),
        'rateLimiting.burstSize: expected an integer, got 2.5',
        'authentication.jwtSecret: expected at least 32 characters, got a string (redacted)',
        'logLevel: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
      ]),
    );
    expect(output).not.toContain('sk-very-secret-key');
    expect(output).not.toContain('too-short-secret-value');
  });

  it('names the unset variables of the MCP_CONFIG file (--config=PATH form for a missing file)', async () => {
    const spec = await runGateway([], { MCP_CONFIG: SPEC, API_KEY_2: 'two' });
    expect(spec.code).toBe(1);
    expect(spec.fatal?.problems).toEqual(['authentication.apiKeys[0]: environment variable API_KEY_1 is not set']);

    const missing = await runGateway(['--config=/nonexistent/qsys-mcp.json'], { MCP_CONFIG: SPEC });
    expect(missing.code).toBe(1);
    expect(missing.fatal?.problems).toEqual(['config file /nonexistent/qsys-mcp.json: expected a readable JSON file, got ENOENT']);
  });

  it('refuses an unknown argument', async () => {
    const { code, fatal } = await runGateway(['--confg', 'x.json']);
    expect(code).toBe(1);
    expect(fatal?.problems?.[0]).toMatch(/^"--confg": expected --stdio, --config PATH or --config=PATH/);
  });
});
