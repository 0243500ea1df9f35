import { request as httpRequest } from 'node:http';
import { Client, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { createMemoryBus } from '@qsys-mcp/bus';
import type { BusHeaders, MemoryBus, ServiceHandle } from '@qsys-mcp/bus';
import { AppError, CORE_OPERATIONS, connectorQueueGroup, connectorServiceName, coreSubject } from '@qsys-mcp/contracts';
import type { ControlState, CoreOperation, CoreStatusReply } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import { createGateway, loadConfig } from '../src/index.js';
import type { Gateway, GatewayConfig, GatewayOptions, ListenInfo } from '../src/index.js';

export { Client, ProtocolError, SdkHttpError } from '@modelcontextprotocol/client';

/** One request the fake connector received. */
export interface ReceivedRequest {
  subject: string;
  data: unknown;
  headers: BusHeaders;
}

const CONTROLS: Record<string, ControlState[]> = {
  'Main Gain': [
    { name: 'gain', type: 'Float', value: -10, string: '-10.0dB', position: 0.5, valueMin: -100, valueMax: 20, direction: 'Read/Write' },
    { name: 'mute', type: 'Boolean', value: false, string: 'unmuted', position: 0, direction: 'Read/Write' },
  ],
  Mixer: [{ name: 'input.1.gain', type: 'Float', value: 0, string: '0dB', position: 0.8 }],
};
const NAMED: Record<string, ControlState> = { MasterVolume: { name: 'MasterVolume', type: 'Float', value: 0.5, string: '50%', position: 0.5 } };

/** The canned status of the fake Core. */
export const FAKE_STATUS: CoreStatusReply = {
  coreId: 'main',
  connected: true,
  host: '127.0.0.1',
  port: 1710,
  state: 'Active',
  designName: 'Test Design',
  designCode: 'abc123',
  platform: 'Core 110f',
  isRedundant: false,
  isEmulator: true,
  status: { code: 0, string: 'OK' },
  componentCount: 2,
};

function unknownComponent(name: string): AppError {
  return new AppError('QSYS_UNKNOWN_COMPONENT', `Unknown component '${name}'`, { details: { component: name } });
}

function controlOf(component: string, control: string): ControlState {
  const controls = CONTROLS[component];
  if (controls === undefined) throw unknownComponent(component);
  const found = controls.find((c) => c.name === control);
  if (found === undefined) throw new AppError('QSYS_UNKNOWN_CONTROL', `Unknown control '${control}' of '${component}'`, { details: { component, control } });
  return { ...found, component };
}

type Handler = (data: Record<string, unknown>) => unknown;

// Partial: an operation added to the contracts later is answered INTERNAL until the fake learns it.
const HANDLERS: Partial<Record<CoreOperation, Handler>> = {
  status: () => FAKE_STATUS,
  'component.list': (d) => ({
    components: Object.entries(CONTROLS)
      .filter(([name]) => typeof d.filter !== 'string' || name.toLowerCase().includes(d.filter.toLowerCase()))
      .map(([name, controls]) => ({ name, type: name === 'Mixer' ? 'mixer' : 'gain', properties: [], controlCount: controls.length })),
  }),
  'component.get': (d) => {
    const name = d.component as string;
    const controls = CONTROLS[name];
    if (controls === undefined) throw unknownComponent(name);
    return { name, type: 'gain', controls: controls.map((c) => ({ ...c, component: name })) };
  },
  'control.get': (d) => ({
    controls: (d.controls as { component: string; control: string }[]).map((r) => controlOf(r.component, r.control)),
  }),
  // `previous`: the canned values, as a connector's live state would report them before the write.
  'control.set': (d) => {
    const writes = d.controls as { component: string; control: string; value: number | string | boolean; ramp?: number }[];
    if (d.dryRun === true) {
      return { controls: [], dryRunChanges: writes.map((w) => ({ component: w.component, control: w.control, from: controlOf(w.component, w.control).value, to: w.value, ramp_time: w.ramp ?? 0 })) };
    }
    return {
      controls: writes.map((w) => ({ ...controlOf(w.component, w.control), value: w.value, string: String(w.value) })),
      previous: writes.map((w) => controlOf(w.component, w.control)),
    };
  },
  'named.get': (d) => ({
    controls: (d.names as string[]).map((n) => {
      const c = NAMED[n];
      if (c === undefined) throw new AppError('QSYS_UNKNOWN_CONTROL', `Unknown Named Control '${n}'`, { details: { name: n } });
      return c;
    }),
  }),
  'named.set': (d) => {
    const c = NAMED[d.name as string];
    if (c === undefined) throw new AppError('QSYS_UNKNOWN_CONTROL', `Unknown Named Control '${String(d.name)}'`);
    return { control: { ...c, value: d.value as number, string: String(d.value) }, previous: c };
  },
  'breaker.reset': () => ({ core: 'main', previousState: 'OPEN', state: 'CLOSED' }),
};

/**
 * A fake connector for core `core` on the bus: canned replies that satisfy the reply schemas,
 * AppErrors for unknown names, and a log of every request it received.
 */
export function startFakeConnector(bus: MemoryBus, received: ReceivedRequest[] = [], core = 'main'): Promise<ServiceHandle> {
  return bus.serve({
    name: connectorServiceName(core),
    version: '0.1.0',
    queue: connectorQueueGroup(core),
    endpoints: Object.values(CORE_OPERATIONS).map((op) => ({
      name: op.replace('.', '_'),
      subject: coreSubject(core, op),
      handler: (req) => {
        received.push({ subject: req.subject, data: req.data, headers: req.headers });
        const handler = HANDLERS[op];
        if (handler === undefined) return Promise.reject(new AppError('INTERNAL', `The fake connector does not implement ${op}`));
        return Promise.resolve(handler(req.data as Record<string, unknown>));
      },
    })),
  });
}

/** A gateway over a memory bus with a fake connector, listening on an OS-chosen port. */
export interface Harness {
  bus: MemoryBus;
  gateway: Gateway;
  config: GatewayConfig;
  listen: ListenInfo;
  received: ReceivedRequest[];
  /** A connected MCP client (`era` 'legacy' = 2025-11-25 handshake, 'auto' = 2026-07-28 when offered). */
  connect(era?: Era, headers?: Record<string, string>): Promise<Client>;
  /** A client connected over the gateway's stdio serving (an in-memory stdio-shaped transport). */
  connectStdio(era?: Era): Promise<Client>;
  close(): Promise<void>;
}

/** Protocol era a test client negotiates. */
export type Era = 'legacy' | 'auto';

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  /** Environment the config is loaded from (over `MCP_HTTP_PORT=0` and rate limiting off). */
  env?: Record<string, string>;
  /** Edits the loaded config (API keys with scopes, which the environment cannot express). */
  config?: (config: GatewayConfig) => GatewayConfig;
  /** `false`: no fake connector. */
  connector?: boolean;
  gateway?: Partial<GatewayOptions>;
}

/**
 * Starts a harness; `env` overrides the config, `connector: false` starts no connector. Rate
 * limiting is off unless `env` turns it on (`MCP_RATE_LIMIT_ENABLED: 'true'`), so tests that are
 * not about it can call freely.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const bus = createMemoryBus();
  const received: ReceivedRequest[] = [];
  if (options.connector !== false) await startFakeConnector(bus, received);
  const loaded = loadConfig({ MCP_HTTP_PORT: '0', MCP_RATE_LIMIT_ENABLED: 'false', ...options.env });
  const config = options.config === undefined ? loaded : options.config(loaded);
  const gateway = createGateway({ config, bus, logger: createSilentLogger(), ...options.gateway });
  const listen = await gateway.listen();
  const clients: Client[] = [];
  const stdioHandles: { close(): Promise<void> }[] = [];
  return {
    bus,
    gateway,
    config,
    listen,
    received,
    async connect(era = 'legacy', headers = {}) {
      const client = new Client({ name: 'gateway-test', version: '1.0.0' }, { versionNegotiation: { mode: era } });
      await client.connect(new StreamableHTTPClientTransport(new URL(listen.url), { requestInit: { headers } }));
      clients.push(client);
      return client;
    },
    async connectStdio(era = 'legacy') {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      stdioHandles.push(gateway.serveStdio({ transport: serverSide }));
      const client = new Client({ name: 'gateway-stdio-test', version: '1.0.0' }, { versionNegotiation: { mode: era } });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await Promise.allSettled(stdioHandles.map((h) => h.close()));
      await gateway.close();
      await bus.close();
    },
  };
}

/** A raw HTTP request (so tests can set `Host` and `Origin`, which fetch does not allow). */
export function rawRequest(
  url: string,
  init: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method: init.method ?? 'GET', path: init.path ?? target.pathname, headers: init.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** What an HTTP refusal looked like to the MCP SDK client: the status and the JSON-RPC body. */
export interface HttpRefusal {
  status: number;
  /** The JSON-RPC error response the gateway sent. */
  body: { jsonrpc: string; id: unknown; error: { code: number; message: string; data?: Record<string, unknown> } };
}

/**
 * Awaits `call` and expects the gateway to have refused it with an HTTP error status: the SDK
 * client surfaces a non-2xx answer as an `SdkHttpError` carrying the status and the body text
 * (it raises a `ProtocolError` only for 2xx JSON-RPC errors).
 */
export async function expectHttpRefusal(call: Promise<unknown>): Promise<HttpRefusal> {
  try {
    await call;
  } catch (err) {
    if (!(err instanceof SdkHttpError)) throw err;
    const data = err.data as { status: number; text?: string };
    return { status: data.status, body: JSON.parse(data.text ?? 'null') as HttpRefusal['body'] };
  }
  throw new Error('expected an HTTP refusal');
}

/** A pino destination that keeps every line written to it (to check what the logs hold). */
export function collectingDestination(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

/** Waits until `condition()` holds, polling every 10 ms, up to `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Headers of a raw MCP POST. */
export const MCP_JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A raw `tools/call` request body (2025-era, no handshake needed by the stateless endpoint). */
export function toolCallBody(name: string, args: Record<string, unknown> = {}, id: number | string = 1): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** POSTs a raw JSON-RPC body (object or text) to the MCP endpoint; parses the answer when it is JSON. */
export async function postMcp(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: unknown; body: string }> {
  const res = await rawRequest(url, { method: 'POST', headers: { ...MCP_JSON_HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    // SSE or empty: left to the caller
  }
  return { ...res, json };
}
