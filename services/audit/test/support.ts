import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '@qsys-mcp/contracts';

/** A valid audit event; `overrides` replace fields. */
export function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    eventId: randomUUID(),
    timestamp: new Date().toISOString(),
    kind: 'tool_call',
    tool: 'qsys.set_control',
    clientId: 'api_a1b2c3d4',
    success: true,
    duration: 12,
    requestId: randomUUID(),
    core: 'main',
    method: 'tools/call',
    transport: 'http',
    gateway: 'gw-test',
    arguments: { component_name: 'Main Gain', control_name: 'gain', value: -12 },
    ...overrides,
  };
}

/** A temporary directory removed by the returned function. */
export function tempDir(): { dir: string; path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'qsys-audit-'));
  return { dir, path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
