import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonDepth } from '../src/json-depth.js';
import { ConfigError, loadConfig } from '../src/index.js';

describe('jsonDepth', () => {
  it.each([
    ['1', 0],
    ['"x"', 0],
    ['{}', 1],
    ['[]', 1],
    ['[[1]]', 2],
    ['{"a":{"b":[1,{"c":2}]}}', 4],
    ['[[],[[]],[]]', 3],
  ])('measures %s as %i levels', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth('["[[[{{{"]')).toBe(1);
    expect(jsonDepth('{"a\\"[[":"\\\\"}')).toBe(1);
    expect(jsonDepth('["\\"]]]]", [1]]')).toBe(2);
  });

  it('measures a million levels without recursion', () => {
    expect(jsonDepth('['.repeat(1_000_000) + ']'.repeat(1_000_000))).toBe(1_000_000);
  });

  it('stops as soon as the depth passes the limit', () => {
    expect(jsonDepth('['.repeat(1000), 64)).toBe(65);
    expect(jsonDepth('['.repeat(64) + ']'.repeat(64), 64)).toBe(64);
  });
});

describe('the maxJsonDepth setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-depth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is 64 by default, read from http.maxJsonDepth, and MCP_MAX_JSON_DEPTH wins', () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ http: { maxJsonDepth: 100 } }));
    expect(loadConfig({}).maxJsonDepth).toBe(64);
    expect(loadConfig({}, { configPath: file }).maxJsonDepth).toBe(100);
    expect(loadConfig({ MCP_MAX_JSON_DEPTH: '20' }, { configPath: file }).maxJsonDepth).toBe(20);
  });

  it.each(['8', '1001', 'deep'])('refuses MCP_MAX_JSON_DEPTH=%s', (value) => {
    expect(() => loadConfig({ MCP_MAX_JSON_DEPTH: value })).toThrow(ConfigError);
    try {
      loadConfig({ MCP_MAX_JSON_DEPTH: value });
    } catch (err) {
      expect((err as ConfigError).problems.some((p) => p.startsWith('MCP_MAX_JSON_DEPTH:'))).toBe(true);
    }
  });
});
