import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HealthMonitor } from './health.js';

/** HTTP status of `GET /health` for each basic status: degraded still serves, so load balancers keep it. */
export const HEALTH_HTTP_STATUS = { ok: 200, degraded: 200, error: 503 } as const;

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** @default '0.0.0.0' (probes come from the orchestrator) */
  host?: string;
  /** 0 = chosen by the OS. */
  port: number;
  health: HealthMonitor;
  registry: Registry;
  /** Readiness: true when the service can do its work (`GET /readyz` 200, else 503). */
  ready: () => boolean;
  logger: Logger;
}

/** A running ops server. */
export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Routes every service answers on its health port (the gateway serves the same routes on its
 * MCP port): `GET /livez` (200 while the process serves HTTP), `GET /readyz` (200 when ready,
 * else 503), `GET /health` (the basic report: 200 when ok or degraded, 503 when error),
 * `GET /health?detailed=true` (every check), `GET /metrics` (Prometheus text) and
 * `GET /metrics.json` (the same registry as JSON).
 */
export async function handleOpsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { health: HealthMonitor; registry: Registry; ready: () => boolean },
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  switch (url.pathname) {
    case '/livez':
      send(res, 200, { status: 'alive' });
      return true;
    case '/readyz': {
      const ready = deps.ready();
      send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
      return true;
    }
    case '/health': {
      const detailed = url.searchParams.get('detailed') === 'true';
      const report = await deps.health.check();
      const body = detailed ? report : { status: report.status, timestamp: report.timestamp, version: report.version, uptime: report.uptime };
      send(res, HEALTH_HTTP_STATUS[report.status], body);
      return true;
    }
    case '/metrics':
      send(res, 200, await deps.registry.metrics(), deps.registry.contentType);
      return true;
    case '/metrics.json':
      send(res, 200, await deps.registry.getMetricsAsJSON());
      return true;
    default:
      return false;
  }
}

/** Starts the health and metrics HTTP server of a service that has no HTTP port of its own. */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    handleOpsRequest(req, res, options).then(
      (handled) => {
        if (!handled) send(res, 404, { error: 'not_found', message: `No route for ${req.method} ${req.url}` });
      },
      (err: unknown) => {
        options.logger.error({ err }, 'ops request failed');
        if (!res.headersSent) send(res, 500, { error: 'internal' });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The `health-check` command of a service (what the container `HEALTHCHECK` calls): asks
 * `GET /health` on the local health port and exits 0 only when the status is `ok`.
 */
export async function runHealthCheck(options: { port: number; host?: string; timeoutMs?: number; out?: NodeJS.WritableStream }): Promise<number> {
  const out = options.out ?? process.stdout;
  try {
    const res = await fetch(`http://${options.host ?? '127.0.0.1'}:${options.port}/health`, { signal: AbortSignal.timeout(options.timeoutMs ?? 3000) });
    const body = (await res.json()) as { status?: string };
    if (body.status === 'ok') return 0;
    out.write(`Health check failed: ${JSON.stringify(body)}\n`);
    return 1;
  } catch (err) {
    out.write(`Health check failed: ${(err as Error).message}\n`);
    return 1;
  }
}
