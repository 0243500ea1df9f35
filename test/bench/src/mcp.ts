import { MCP_HEADERS } from './targets.js';

/** Setup calls over plain fetch (not measured): one tool call, waits, simulator statistics. */

/** The JSON-RPC message of a Streamable HTTP answer (JSON, or the first SSE `data:` line). */
export function parseMcpAnswer(text: string): { result?: { isError?: boolean; structuredContent?: Record<string, unknown> }; error?: unknown } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as ReturnType<typeof parseMcpAnswer>;
  const data = text.split('\n').find((l) => l.startsWith('data: '));
  if (data === undefined) throw new Error(`no JSON-RPC message in ${text.slice(0, 200)}`);
  return JSON.parse(data.slice(6)) as ReturnType<typeof parseMcpAnswer>;
}

/** Calls one tool and returns its structured content. @throws Error on a JSON-RPC or tool error. */
export async function callTool(url: string, name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
  const answer = parseMcpAnswer(await res.text());
  if (answer.error !== undefined || answer.result?.isError === true) throw new Error(`${name} failed: ${JSON.stringify(answer)}`);
  return answer.result?.structuredContent ?? {};
}

/** Waits until `qsys.get_core_status` says connected with a live state. */
export async function waitLive(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const status = await callTool(url, 'qsys.get_core_status', {});
      if (status.connected === true && status.liveState === true) return;
      last = JSON.stringify(status);
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`the Core never became live through ${url}: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Requests per QRC method the simulator counted since start (`GET /admin/status`). */
export async function simRequests(adminUrl: string): Promise<Record<string, number>> {
  const res = await fetch(`${adminUrl}/admin/status`);
  const status = (await res.json()) as { cores: { primary: { stats: { byMethod: Record<string, number> } } } };
  return status.cores.primary.stats.byMethod;
}

/**
 * Core round trips per call, exactly: `n` calls one after the other with nothing else running
 * against this Core, and the simulator's per-method counts before and after. Methods with no
 * change are left out, so `{}` means no Core round trip at all. `NoOp` is left out too: it is
 * the keepalive of idle connections to the same simulator (no tool call sends it).
 */
export async function coreTripsPerCall(adminUrl: string, call: () => Promise<boolean>, n: number): Promise<Record<string, number>> {
  const before = await simRequests(adminUrl);
  for (let i = 0; i < n; i++) {
    if (!(await call())) throw new Error('a call failed while counting Core round trips');
  }
  const after = await simRequests(adminUrl);
  const out: Record<string, number> = {};
  for (const [method, count] of Object.entries(after)) {
    const delta = count - (before[method] ?? 0);
    if (delta !== 0 && method !== 'NoOp') out[method] = delta / n;
  }
  return out;
}
