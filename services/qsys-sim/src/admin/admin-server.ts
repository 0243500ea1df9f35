import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSilentLogger, type Logger } from '@qsys-mcp/observability';
import { isObj, type Obj } from '../design-check.js';
import { DesignError } from '../design.js';
import { AdminError } from './admin-error.js';
import { ADMIN_ROUTES } from './admin-routes.js';
import { adminTargetOf, type AdminTarget } from './admin-target.js';
import type { AddressInfo } from 'node:net';
import type { Simulator, SimulatorPair } from '../simulator-types.js';

/** Largest request body read, bytes (an inline design fits). */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024 * 1024;

/** Options of {@link startAdminServer}. */
export interface AdminServerOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Port; 0 = chosen by the OS. @default 0 */
  port?: number;
  /** pino logger. @default a silent logger */
  logger?: Logger;
}

/** A listening admin interface. */
export interface AdminServer {
  /** The bound port. */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops listening and closes open requests. Idempotent. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: AdminError | DesignError, headers?: Record<string, string>): void {
  const status = err instanceof AdminError ? err.status : 400;
  const problems = err.problems.length > 0 ? { problems: err.problems } : {};
  send(res, status, { error: { code: err.code, message: err.message.split('\n')[0], ...problems } }, headers);
}

async function readBody(req: IncomingMessage): Promise<Obj> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new AdminError('BODY_TOO_LARGE', `request body over ${MAX_ADMIN_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AdminError('INVALID_JSON', `request body is not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (!isObj(json)) throw new AdminError('INVALID_BODY', 'request body must be a JSON object', ['body: must be a JSON object']);
  return json;
}

async function handle(req: IncomingMessage, res: ServerResponse, target: AdminTarget, logger: Logger): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const route = ADMIN_ROUTES.get(path.length > 1 ? path.replace(/\/+$/, '') : path);
  try {
    if (!route) throw new AdminError('NOT_FOUND', `no admin route ${req.method ?? ''} ${path} (routes: ${[...ADMIN_ROUTES.keys()].join(', ')})`);
    if (req.method !== route.method) {
      sendError(res, new AdminError('METHOD_NOT_ALLOWED', `${path} takes ${route.method}`), { allow: route.method });
      return;
    }
    const body = route.method === 'POST' ? await readBody(req) : {};
    const result = await route.handler(body, target);
    logger.debug({ method: req.method, path }, 'admin request');
    send(res, 200, result);
  } catch (err) {
    if (err instanceof AdminError || err instanceof DesignError) {
      logger.debug({ path, code: err.code, problems: err.problems }, 'admin request rejected');
      sendError(res, err);
    } else {
      logger.error({ err, path }, 'admin request failed');
      send(res, 500, { error: { code: new AdminError('INTERNAL', '').code, message: 'internal error (see the simulator log)' } });
    }
  }
}

/**
 * Starts the admin interface of a simulator or a redundant pair: JSON over HTTP on its own
 * port (routes in the README: `GET /admin/status`, `POST /admin/faults`, …). Bad bodies get
 * 400 with `{"error":{code,message,problems}}`, unknown routes 404.
 * @throws a listen error (EADDRINUSE) as is.
 */
export async function startAdminServer(target: Simulator | SimulatorPair, options: AdminServerOptions = {}): Promise<AdminServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? createSilentLogger();
  const admin = adminTargetOf(target);
  const server = createServer((req, res) => void handle(req, res, admin, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'admin server error'));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
