import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStandalone, type McpServerHandle } from '@qsys-mcp/standalone';

// The schemas tools/list advertises, read through the real MCP SDK client over HTTP, checked
// as the MCP Inspector's `--strict` checks them: no `type` arrays (anyOf branches instead), no
// schema without a validation keyword, and every output schema constrains its object.

let server: McpServerHandle;
let client: Client;
let dir: string;
let tools: Array<{ name: string; inputSchema: unknown; outputSchema?: unknown }>;

// What the Inspector counts as constraining a value (a schema without any of them accepts anything).
const CONSTRAINING = new Set([
  'type', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', 'not', '$ref', 'properties', 'items', 'prefixItems', 'additionalProperties',
  'patternProperties', 'propertyNames', 'required', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'format', 'minItems', 'maxItems',
]);
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs'];
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const SUBSCHEMAS = ['items', 'additionalProperties', 'propertyNames', 'not', 'contains'];

/** Every problem of a schema, each with its path. */
function schemaProblems(node: unknown, path: string, out: string[] = []): string[] {
  if (typeof node === 'boolean') return out;
  if (node === null || typeof node !== 'object') return [...out, `${path}: not a schema`];
  const s = node as Record<string, unknown>;
  if (Array.isArray(s.type)) out.push(`${path}: type is an array ${JSON.stringify(s.type)}`);
  if (!Object.keys(s).some((k) => CONSTRAINING.has(k))) out.push(`${path}: no validation keyword`);
  for (const key of SUBSCHEMA_MAPS) for (const [name, sub] of Object.entries((s[key] as Record<string, unknown> | undefined) ?? {})) schemaProblems(sub, `${path}.${key}.${name}`, out);
  for (const key of SUBSCHEMA_LISTS) ((s[key] as unknown[] | undefined) ?? []).forEach((sub, i) => schemaProblems(sub, `${path}.${key}[${i}]`, out));
  for (const key of SUBSCHEMAS) if (key in s) schemaProblems(s[key], `${path}.${key}`, out);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qsys-mcp-schemas-'));
  server = await createStandalone({ env: { MCP_HTTP_PORT: '0', AUDIT_DB_PATH: join(dir, 'audit.sqlite'), MCP_RATE_LIMIT_ENABLED: 'false' } });
  await server.stack.connector.waitReady(10_000);
  client = new Client({ name: 'schema-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.stack.http!.url)));
  tools = (await client.listTools()).tools;
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tools/list schemas', () => {
  it('lists every tool with an output schema', () => {
    expect(tools.length).toBeGreaterThanOrEqual(12);
    expect(tools.filter((t) => t.outputSchema === undefined).map((t) => t.name)).toEqual([]);
  });

  it('uses no type array and no schema without a validation keyword, in input and output schemas', () => {
    const problems = tools.flatMap((t) => [...schemaProblems(t.inputSchema, `${t.name} inputSchema`), ...schemaProblems(t.outputSchema, `${t.name} outputSchema`)]);
    expect(problems).toEqual([]);
  });

  it('constrains the object of every output schema (type object with properties)', () => {
    const loose = tools.filter((t) => {
      const s = t.outputSchema as { type?: unknown; properties?: Record<string, unknown> };
      return s.type !== 'object' || s.properties === undefined || Object.keys(s.properties).length === 0;
    });
    expect(loose.map((t) => t.name)).toEqual([]);
  });

  it('keeps what the tools return valid against their output schemas (the SDK client checks structuredContent)', async () => {
    // The SDK client validates structuredContent against the advertised output schema and throws when it does not match.
    const calls: Array<[string, Record<string, unknown>]> = [
      ['qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -12 }],
      ['qsys.set_control', { component_name: 'Main Gain', control_name: 'mute', value: true }],
      ['qsys.get_component', { component_name: 'Main Gain' }],
      ['qsys.get_controls', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] }],
      ['qsys.list_components', {}],
      ['qsys.get_core_status', {}],
      ['system.health', { detailed: true }],
      ['system.ping', {}],
      ['system.audit_log', { limit: 20 }],
    ];
    for (const [name, args] of calls) {
      const result = await client.callTool({ name, arguments: args });
      expect(result.isError, `${name}: ${JSON.stringify(result.structuredContent)}`).not.toBe(true);
      expect(result.structuredContent, name).toBeDefined();
    }
    const log = await client.callTool({ name: 'system.audit_log', arguments: { tool: 'qsys.set_control', limit: 5 } });
    const events = (log.structuredContent as { events: Array<{ arguments?: unknown; changes?: unknown[] }> }).events;
    expect(events.some((e) => e.arguments !== undefined && (e.changes?.length ?? 0) > 0)).toBe(true);
  });
});
