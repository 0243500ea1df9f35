import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, loadSafetyRules } from '../src/config.js';
import { createReloadableSafety, createSafetyReloader } from '../src/safety-reload.js';
import { startService } from '../../../test/support/processes.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'safety-reload-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function caught(fn: () => unknown): AppError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  return undefined;
}

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** A logger that keeps what it is given at error and info. */
function recordingLogger(): { logger: Logger; errors: Array<Record<string, unknown>>; infos: Array<Record<string, unknown>> } {
  const errors: Array<Record<string, unknown>> = [];
  const infos: Array<Record<string, unknown>> = [];
  const base = createSilentLogger();
  const logger = Object.assign(Object.create(base) as Logger, {
    error: (obj: Record<string, unknown>, msg?: string) => void errors.push({ ...obj, msg }),
    info: (obj: Record<string, unknown>, msg?: string) => void infos.push({ ...obj, msg }),
  });
  return { logger, errors, infos };
}

const MAIN_GAIN = { component: 'Main Gain', control: 'gain', value: -3 };

describe('safety rules reload (SIGHUP)', () => {
  it('applies a good file: a write allowed before is refused after, and the version goes up', async () => {
    const path = join(dir, 'good.json');
    writeFileSync(path, JSON.stringify({ safety: { protectedControls: ['Zone 9/*'] } }));
    const config = loadConfig({ QSYS_HOST: '127.0.0.1', MCP_CONFIG: path });
    const safety = createReloadableSafety(config.safety);
    const registry = new Registry();
    const { logger, infos } = recordingLogger();
    const reloader = createSafetyReloader({ safety, load: () => loadSafetyRules({ MCP_CONFIG: path }), logger, registry });
    expect(caught(() => safety.checkStatic(MAIN_GAIN, false))).toBeUndefined();
    expect(safety.version).toBe(1);

    writeFileSync(path, JSON.stringify({ qrwc: { host: 'x' }, safety: { limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }] } }));
    expect(reloader.reload()).toEqual({ ok: true, version: 2 });
    expect(caught(() => safety.checkStatic(MAIN_GAIN, true))?.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    // The old rule is gone.
    expect(caught(() => safety.checkStatic({ component: 'Zone 9', control: 'mute', value: 1 }, false))).toBeUndefined();
    expect(safety.rules.limits).toEqual([{ match: 'Main Gain/gain', min: -60, max: -6 }]);
    expect(infos.at(-1)).toMatchObject({ msg: 'safety rules reloaded', version: 2, rules: { protectedControls: 0, limits: 1, maxStep: 0 } });
    const metrics = await registry.metrics();
    expect(metrics).toContain('qsys_safety_rules_version 2');
    expect(metrics).toContain('qsys_safety_reloads_total{result="applied"} 1');
  });

  it('keeps the old rules when the new file is invalid, and logs every problem', async () => {
    const path = join(dir, 'bad-later.json');
    writeFileSync(path, JSON.stringify({ safety: { limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }] } }));
    const safety = createReloadableSafety(loadSafetyRules({ MCP_CONFIG: path }));
    const registry = new Registry();
    const { logger, errors } = recordingLogger();
    const reloader = createSafetyReloader({ safety, load: () => loadSafetyRules({ MCP_CONFIG: path }), logger, registry });

    writeFileSync(
      path,
      JSON.stringify({ safety: { protectedControls: ['', 'a/b/c'], limits: [{ match: 'Main Gain/gain', min: 0, max: -10 }], maxStep: [{ match: '*/gain', step: 0, minRampSeconds: 2, extra: 1 }] } }),
    );
    const result = reloader.reload();
    expect(result.ok).toBe(false);
    expect(result.version).toBe(1);
    const problems = result.ok ? [] : result.problems;
    for (const at of ['safety.protectedControls[0]', 'safety.protectedControls[1]', 'safety.limits[0].max', 'safety.maxStep[0].step', 'safety.maxStep[0].extra']) {
      expect(problems.some((p) => p.startsWith(`${at}:`)), `${at} in ${problems.join(' | ')}`).toBe(true);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ problems, version: 1 });
    expect(String(errors[0]?.msg)).toContain('stay in force');
    // The old limit still refuses, the invalid file's rules are not in force.
    expect(caught(() => safety.checkStatic(MAIN_GAIN, true))?.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
    expect(safety.version).toBe(1);

    writeFileSync(path, '{ not json');
    expect(reloader.reload()).toMatchObject({ ok: false, problems: [`config file ${path}: expected valid JSON, got a syntax error`] });
    expect(await registry.metrics()).toContain('qsys_safety_reloads_total{result="invalid"} 2');
    expect(caught(() => safety.checkStatic(MAIN_GAIN, true))?.code).toBe('QSYS_VALUE_OUT_OF_RANGE');
  });

  it('keeps the variables over the file at a reload', () => {
    const path = join(dir, 'env-wins.json');
    writeFileSync(path, JSON.stringify({ safety: { limits: [{ match: 'Main Gain/gain', min: -60, max: -6 }] } }));
    const rules = loadSafetyRules({ MCP_CONFIG: path, SAFETY_LIMITS: 'Main Gain/gain=-100..0' });
    expect(rules.limits).toEqual([{ match: 'Main Gain/gain', min: -100, max: 0 }]);
  });
});

describe('SAFETY_LIMITS and SAFETY_MAX_STEP', () => {
  const base = { QSYS_HOST: '127.0.0.1' };

  it('reads JSON arrays', () => {
    const config = loadConfig({
      ...base,
      SAFETY_LIMITS: '[{"match":"Main Gain/gain","min":-60,"max":-6},{"match":"MainGain","min":-60,"max":0}]',
      SAFETY_MAX_STEP: ' [{"match":"*/gain","step":6,"minRampSeconds":2}]',
    });
    expect(config.safety.limits).toEqual([
      { match: 'Main Gain/gain', min: -60, max: -6 },
      { match: 'MainGain', min: -60, max: 0 },
    ]);
    expect(config.safety.maxStep).toEqual([{ match: '*/gain', step: 6, minRampSeconds: 2 }]);
  });

  it('reads the compact form, splitting each entry at its last =', () => {
    const config = loadConfig({ ...base, SAFETY_LIMITS: 'Main Gain/gain=-60..-6; */gain = -100..20 ;', SAFETY_MAX_STEP: '*/gain=6@2;Level=a=b/x=0.5@1.5' });
    expect(config.safety.limits).toEqual([
      { match: 'Main Gain/gain', min: -60, max: -6 },
      { match: '*/gain', min: -100, max: 20 },
    ]);
    expect(config.safety.maxStep).toEqual([
      { match: '*/gain', step: 6, minRampSeconds: 2 },
      { match: 'Level=a=b/x', step: 0.5, minRampSeconds: 1.5 },
    ]);
  });

  it('replaces the file lists', () => {
    const config = loadConfig({ ...base, SAFETY_MAX_STEP: '*/gain=3@1' }, { qrwc: {}, safety: { maxStep: [{ match: 'x/y', step: 1, minRampSeconds: 1 }], limits: [{ match: 'a/b', min: 0, max: 1 }] } });
    expect(config.safety.maxStep).toEqual([{ match: '*/gain', step: 3, minRampSeconds: 1 }]);
    expect(config.safety.limits).toEqual([{ match: 'a/b', min: 0, max: 1 }]);
  });

  it('lists every problem of both variables with the entry index', () => {
    const problems = problemsOf(() =>
      loadConfig({
        ...base,
        SAFETY_LIMITS: 'Main Gain/gain=0..-10;nonsense;=1..2;x/y=1..z',
        SAFETY_MAX_STEP: '[{"match":"*/gain","step":-1,"minRampSeconds":2,"ramp":1},{"match":"a/b/c","step":1,"minRampSeconds":100}]',
        SAFETY_PROTECTED_CONTROLS: 'a//b',
      }),
    );
    for (const at of ['SAFETY_LIMITS[0].max', 'SAFETY_LIMITS[1]', 'SAFETY_LIMITS[2].match', 'SAFETY_LIMITS[3]', 'SAFETY_MAX_STEP[0].step', 'SAFETY_MAX_STEP[0].ramp', 'SAFETY_MAX_STEP[1].match', 'SAFETY_MAX_STEP[1].minRampSeconds', 'SAFETY_PROTECTED_CONTROLS[0]']) {
      expect(problems.some((p) => p.startsWith(`${at}:`)), `${at} in ${problems.join(' | ')}`).toBe(true);
    }
    expect(problems.find((p) => p.startsWith('SAFETY_MAX_STEP[0].ramp:'))).toContain('match, step, minRampSeconds');
    expect(problems.find((p) => p.startsWith('SAFETY_LIMITS[1]:'))).toContain('pattern=min..max');
  });

  it('refuses a JSON syntax error and a JSON value that is not a list of rules', () => {
    expect(problemsOf(() => loadConfig({ ...base, SAFETY_LIMITS: '[{"match":' }))[0]).toMatch(/^SAFETY_LIMITS: expected a JSON array/);
    expect(problemsOf(() => loadConfig({ ...base, SAFETY_MAX_STEP: '[1]' }))[0]).toMatch(/^SAFETY_MAX_STEP\[0\]: /);
  });
});

describe('connector process with invalid safety rules', () => {
  it('exits with code 2 at start, listing every problem of the file and of the variables', async () => {
    const path = join(dir, 'start.json');
    writeFileSync(
      path,
      JSON.stringify({
        safety: {
          protectedControls: ['', 'Main Gain/'],
          limits: [{ match: 'Main Gain/gain', min: 0, max: -10 }],
          maxStep: [{ match: '*/gain', step: 0, minRampSeconds: 2 }],
          dryRun: true,
        },
      }),
    );
    const proc = await startService({
      name: 'connector',
      script: 'services/connector/dist/main.js',
      env: { QSYS_HOST: '127.0.0.1', MCP_CONFIG: path, SAFETY_MAX_STEP: 'x/y=1@', LOG_FORMAT: 'json' },
      noReadyLine: true,
    });
    const [code] = (await once(proc.child, 'close')) as [number | null];
    expect(code).toBe(2);
    const line = proc.output().split('\n').find((l) => l.includes('"invalid configuration"'));
    const problems = (JSON.parse(line ?? '{}') as { problems?: string[] }).problems ?? [];
    for (const at of ['safety.protectedControls[0]', 'safety.protectedControls[1]', 'safety.limits[0].max', 'safety.maxStep[0].step', 'safety.dryRun', 'SAFETY_MAX_STEP[0]']) {
      expect(problems.some((p) => p.startsWith(`${at}:`)), `${at} in ${problems.join(' | ')}`).toBe(true);
    }
    expect(problems.find((p) => p.startsWith('safety.dryRun:'))).toContain('protectedControls, limits, maxStep');
  });
});
