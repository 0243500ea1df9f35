import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';
import { readyBanner } from '../src/banner.js';

const URL = 'http://127.0.0.1:8080/mcp';

describe('the ready banner', () => {
  it('suggests a plain curl of /audit without authentication', () => {
    const text = readyBanner({ url: URL, simulated: true, auth: { enabled: false, keyCount: 0 }, auditDb: '/tmp/a.sqlite' });
    expect(text).toContain('Q-SYS MCP server ready (simulated Core)');
    expect(text).toContain("curl 'http://127.0.0.1:8080/audit?limit=10'  (stored in /tmp/a.sqlite)");
  });

  it('adds the key header to the /audit command when authentication is on', () => {
    const text = readyBanner({ url: URL, simulated: false, auth: { enabled: true, keyCount: 2 }, auditDb: '/tmp/a.sqlite' });
    expect(text).toContain("curl -H 'X-API-Key: <an admin key of MCP_API_KEYS>' 'http://127.0.0.1:8080/audit?limit=10'");
  });

  it('suggests no request that answers 401 when authentication is on without any key, and says why', () => {
    const text = readyBanner({ url: URL, simulated: true, auth: { enabled: true, keyCount: 0 }, auditDb: '/tmp/a.sqlite' });
    expect(text).not.toMatch(/curl \S*\/audit/);
    expect(text).toContain('no API key is configured');
    expect(text).toContain('MCP_API_KEYS');
  });

  it('leaves the audit line out when the audit trail is off', () => {
    expect(readyBanner({ url: URL, simulated: true, auth: { enabled: false, keyCount: 0 }, auditDb: undefined })).not.toContain('Audit log');
  });
});

describe('a call for a core the standalone process does not serve', () => {
  let server: McpServerHandle;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-standalone-core-'));
    server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers CORE_UNAVAILABLE naming the core it serves, not NATS', async () => {
    const err = await server.callTool('qsys.get_core_status', { core: 'hall-b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CORE_UNAVAILABLE');
    expect((err as AppError).message).toContain("core 'hall-b'");
    expect((err as AppError).message).toContain("one connector, for core 'main'");
    expect((err as AppError).message).not.toContain('NATS');
  });
});
