import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ENTRY = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'standalone-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The standalone process runs on the in-memory bus: the NATS client (about 11 MB of resident
// memory, docs/performance.md) must not be loaded into it through a shared package.
describe('standalone modules', () => {
  it('loads no NATS client package when its entry point is imported', async () => {
    const seen = join(dir, 'resolved.txt');
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(seen)}, r.url + '\\n'); return r; }\n`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    await run(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(ENTRY).href)});`], { timeout: 30_000 });
    const urls = readFileSync(seen, 'utf8').split('\n').filter((u) => u !== '');
    // The import really ran through the hook: the standalone's own modules and the MCP SDK are there.
    expect(urls.some((u) => u.includes('/services/standalone/dist/'))).toBe(true);
    expect(urls.some((u) => u.includes('@modelcontextprotocol/server'))).toBe(true);
    expect(urls.filter((u) => u.includes('@nats-io/') || u.includes('/libs/bus/dist/nats'))).toEqual([]);
  });
});
