import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio as sdkServeStdio } from '@modelcontextprotocol/server/stdio';
import type { StdioServerHandle } from '@modelcontextprotocol/server/stdio';
import type { Bus } from '@qsys-mcp/bus';
import { toAppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { Registry } from 'prom-client';
import { createAuditPublisher } from './audit/audit-publisher.js';
import type { AuditPublisher } from './audit/audit-publisher.js';
import { createAuditQueryClient } from './audit/audit-query-client.js';
import { createAuditRoute } from './audit/audit-route.js';
import { createAuditor } from './audit/auditor.js';
import { createChangeFeed, memoryChangeFeedBackend } from './change-feed.js';
import type { ChangeFeedBackend } from './change-feed.js';
import { createTokenEndpoint } from './auth/token-endpoint.js';
import { createOAuthVerifier } from './auth/oauth-verifier.js';
import { createProtectedResource } from './auth/protected-resource.js';
import type { GatewayConfig } from './config.js';
import { createCoreClient } from './core-client.js';
import { createLiveUpdateBus } from './event-bus.js';
import type { LiveUpdateStats } from './event-bus.js';
import { createHealth } from './health.js';
import type { Health } from './health.js';
import { createHttpServer, MCP_PATH } from './http.js';
import type { GatewayHttpServer } from './http.js';
import { createMcpServerFactory } from './mcp-server.js';
import { registerLiveUpdateMetrics } from './metrics.js';
import { inspectStdin } from './stdio-input.js';
import { createStdioLiveUpdates } from './stdio-live.js';
import type { McpServerFactoryDeps } from './mcp-server.js';
import { createPolicy, httpAdmitCall, httpAdmitResource, stdioAdmitCall, stdioAdmitResource } from './policy.js';
import type { StdioCaller } from './policy.js';
import { createMcpGuard } from './policy-http.js';
import { createResourceReader } from './resources.js';
import { createChangeFeedToolHandlers } from './tools/change-feed.js';
import { createQsysToolHandlers } from './tools/qsys.js';
import { createCoresToolHandlers } from './tools/cores.js';
import { createRoomToolHandlers } from './tools/room.js';
import { createSnapshotToolHandlers } from './tools/snapshots.js';
import { createToolRegistry } from './tools/registry.js';
import { createSystemToolHandlers } from './tools/system.js';
import { createUndoToolHandlers } from './tools/undo.js';

/** Version of the gateway, reported in `serverInfo` and health. */
export const GATEWAY_VERSION = '0.1.0';

/** Name announced to MCP clients. */
export const GATEWAY_NAME = 'qsys-mcp';

const INSTRUCTIONS =
  'Controls QSC Q-SYS audio systems. Discover with qsys.list_components and qsys.get_component, ' +
  'read with qsys.get_controls, change with qsys.set_control / qsys.set_controls. Names are exact. ' +
  'A failed call returns isError with structuredContent.error { code, message, hint, retryable }.';

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  config: GatewayConfig;
  /** The bus to the connectors; the gateway never closes it. */
  bus: Bus;
  logger: Logger;
  /**
   * Whether the bus is usable (connected); drives `/readyz`, `/health` and `system.health`.
   * @default the bus's own `isConnected()` when it has one (the NATS bus), else always true
   *   (the in-memory bus)
   */
  busReady?: () => boolean;
  /** Version reported to clients and in health. @default GATEWAY_VERSION */
  version?: string;
  /** How long `close()` waits for in-flight HTTP requests, ms. @default 5000 */
  closeGraceMs?: number;
  /** Clock of the protections (bearer token issue and expiry, rate-limit refill), epoch ms. @default Date.now */
  now?: () => number;
  /**
   * Creates the JetStream stream `AUDIT` when it is missing (the NATS gateway passes
   * `ensureNatsStream(…, 'create-if-missing')`; the standalone process creates its memory
   * stream itself). Called at start and whenever a publish finds no stream.
   * @default nothing: events wait in the buffer until some other process creates the stream
   */
  ensureAuditStream?: () => Promise<unknown>;
  /**
   * Where `qsys.watch` / `qsys.get_changes` read the stream `QSYS_CHANGES` and how it is created
   * (the NATS gateway: the bus and `ensureNatsStream(…, 'create-or-update')` with
   * `config.changeFeed`'s limits).
   * @default on the in-memory bus, its own memory stream, created with `config.changeFeed`'s
   *   limits on first use; on another bus, the bus as reader and no creation
   */
  changeFeed?: ChangeFeedBackend;
}

/** Where the HTTP server listens. */
export interface ListenInfo {
  port: number;
  /** URL of the MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`. */
  url: string;
}

/** Options of {@link Gateway.serveStdio}. */
export interface ServeStdioOptions {
  /** Serve over this transport instead of the process's stdin/stdout (tests, sockets). */
  transport?: Transport;
  /** Read and write these streams instead of the process's stdin and stdout (tests); ignored with `transport`. */
  streams?: { stdin: Readable; stdout: Writable };
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  /** Starts the HTTP server on `config.httpHost:config.httpPort` (0 = OS-chosen). @throws when the port is taken. */
  listen(): Promise<ListenInfo>;
  /** Serves MCP over stdio (logs must then go to stderr). Several calls serve several transports. */
  serveStdio(options?: ServeStdioOptions): StdioServerHandle;
  /** The basic health of this gateway. */
  readonly health: Health;
  /**
   * This gateway's Prometheus registry (its own, not prom-client's global one), served on
   * `GET /metrics`: `mcp_rate_limit_hits_total`, `mcp_rate_limit_remaining`, `mcp_rate_limit_buckets`,
   * and the audit metrics (`mcp_audit_events_total`, `mcp_audit_dropped_total`, `mcp_audit_buffered`, …).
   */
  readonly metrics: Registry;
  /** The audit publisher: `buffered` events waiting for JetStream, `flush()`. */
  readonly audit: Pick<AuditPublisher, 'buffered' | 'flush' | 'settings'>;
  /** What the event bus of `subscriptions/listen` holds: listeners, coalescing timers, bus subscriptions. */
  liveUpdates(): LiveUpdateStats;
  /**
   * Closes the HTTP server and every stdio connection, then makes a last attempt to publish
   * buffered audit events; does NOT close the bus. Idempotent.
   */
  close(): Promise<void>;
}

function defaultBusReady(bus: Bus): () => boolean {
  const probe = (bus as Bus & { isConnected?: unknown }).isConnected;
  return typeof probe === 'function' ? () => (probe as () => boolean).call(bus) : () => true;
}

/** True for a bus over a network connection (the NATS bus has `isConnected`), false in-process. */
function hasConnection(bus: Bus): boolean {
  return typeof (bus as Bus & { isConnected?: unknown }).isConnected === 'function';
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || host.startsWith('127.');
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Composes the MCP gateway over any {@link Bus} (NATS in production, in-memory in the standalone
 * process and tests): tool registry and JSON Schemas built once, the MCP server factory, the
 * HTTP server and stdio serving.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, bus, logger } = options;
  const version = options.version ?? GATEWAY_VERSION;
  const busReady = options.busReady ?? defaultBusReady(bus);
  const queryAudit = createAuditQueryClient(bus);
  // OAuth 2.1 resource server (docs/security.md): the metadata and the token verifier, when issuers are configured.
  const oauthConfig = config.authentication.oauth;
  const protectedResource = oauthConfig === undefined ? undefined : createProtectedResource({ config: oauthConfig, resourceName: config.name, mcpPath: MCP_PATH });
  const oauth =
    oauthConfig === undefined || protectedResource === undefined
      ? undefined
      : createOAuthVerifier({ config: oauthConfig, audience: () => protectedResource.audience(), logger, ...(options.now === undefined ? {} : { now: options.now }) });
  // Authentication, scopes and rate limit: one policy for both transports (policy.ts).
  const policy = createPolicy({
    authentication: config.authentication,
    rateLimiting: config.rateLimiting,
    oauth,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  // The audit trail: events into the JetStream stream AUDIT, metrics in the gateway's registry.
  const publisher = createAuditPublisher({
    settings: config.audit,
    bus,
    logger,
    registry: policy.metrics.registry,
    busReady,
    ...(options.ensureAuditStream === undefined ? {} : { ensureStream: options.ensureAuditStream }),
  });
  const health = createHealth({
    version,
    busReady,
    bus,
    cores: [config.defaultCore],
    logger,
    registry: policy.metrics.registry,
    sampler: policy.metrics.sampler,
    auditBuffer: () => ({ buffered: publisher.buffered, capacity: config.audit.bufferSize }),
    intervalMs: config.healthCheckIntervalMs,
    oauth: oauth === undefined ? undefined : () => oauth.status(),
  });
  health.start();
  // A bus without a NATS connection is the standalone's in-memory bus: its one connector serves
  // the default core (QSYS_CORE_ID).
  const inProcess = options.busReady === undefined && !hasConnection(bus) ? { servedCore: config.defaultCore } : undefined;
  const callCore = createCoreClient({ bus, metrics: policy.metrics, ...(inProcess === undefined ? {} : { inProcess }) });
  // The change feed: kept in a stream, so that every replica answers every cursor. The stream is
  // set up at start so that it captures changes before the first watch (and again when missing).
  const feedBackend = options.changeFeed ?? memoryChangeFeedBackend(bus, config.changeFeed);
  const feed = createChangeFeed({ ...feedBackend, bus, settings: config.changeFeed, logger });
  feedBackend.ensureStream().catch((err: unknown) => logger.warn({ err }, 'cannot set up the change feed stream yet; qsys.watch will try again'));
  const registry = createToolRegistry({
    ...createQsysToolHandlers({ callCore, defaultCore: config.defaultCore }),
    ...createChangeFeedToolHandlers({ feed, callCore, defaultCore: config.defaultCore }),
    ...createRoomToolHandlers({ callCore, defaultCore: config.defaultCore }),
    ...createSnapshotToolHandlers({ callCore, defaultCore: config.defaultCore }),
    ...createCoresToolHandlers({ bus, callCore }),
    ...createSystemToolHandlers({ instanceId: config.instanceId, health, callCore, defaultCore: config.defaultCore, queryAudit }),
    ...createUndoToolHandlers({ callCore, queryAudit, defaultCore: config.defaultCore, auditEnabled: config.audit.enabled }),
  });
  const auditor = createAuditor(publisher, { gateway: config.instanceId, defaultCore: config.defaultCore, maxArgumentBytes: config.audit.maxArgumentBytes });
  const serverDeps: Omit<McpServerFactoryDeps, 'admitCall' | 'admitResource'> = {
    auditor,
    resources: { reader: createResourceReader({ callCore, defaultCore: config.defaultCore }), defaultCore: config.defaultCore },
    registry,
    logger,
    metrics: policy.metrics,
    requestTimeoutMs: config.requestTimeoutMs,
    serverInfo: { name: GATEWAY_NAME, version },
    instructions: INSTRUCTIONS,
    ...(config.validation.componentNamePattern === undefined ? {} : { componentNamePattern: new RegExp(config.validation.componentNamePattern, 'u') }),
  };
  // subscriptions/listen on every replica: the connectors' change events on the bus become
  // resource updates (event-bus.ts); the subscriptions are this gateway's, whatever the listeners.
  // The gauge reads the bus at scrape time, after it exists.
  const liveCounters = registerLiveUpdateMetrics(policy.metrics.registry, () => liveUpdates.stats().listeners);
  const liveUpdates = createLiveUpdateBus({ bus, logger, coalesceMs: config.liveUpdates.coalesceMs, counters: liveCounters });
  // Over HTTP the guard in front of the SDK has applied the policy already.
  const httpFactory = createMcpServerFactory({ ...serverDeps, admitCall: httpAdmitCall, admitResource: httpAdmitResource });

  let http: GatewayHttpServer | undefined;
  const stdioHandles = new Set<StdioServerHandle>();
  let closing: Promise<void> | undefined;

  return {
    health,
    metrics: policy.metrics.registry,
    audit: publisher,
    liveUpdates: () => liveUpdates.stats(),

    async listen() {
      if (closing !== undefined) throw new Error('gateway is closed');
      if (http !== undefined) throw new Error('gateway is already listening');
      const created = createHttpServer({
        factory: httpFactory,
        guard: createMcpGuard({
          policy,
          logger,
          maxJsonDepth: config.maxJsonDepth,
          // One audit event per refused tool call, or one for a refused request without any.
          protectedResource,
          onRefusal: async ({ err, tools, methods, requestId, clientId, principal }) => {
            const facts = { clientId, requestId, transport: 'http' as const, startedAt: Date.now(), oauth: principal?.oauth };
            const calls = tools.length > 0 ? tools.map((tool) => ({ tool: tool === '' ? null : tool, method: 'tools/call' })) : [{ tool: null, method: methods[0] ?? 'unknown' }];
            await Promise.all(calls.map((c) => auditor.refused({ ...facts, ...c }, err)));
          },
        }),
        auditRoute: createAuditRoute({
          authenticator: policy.authenticator,
          queryAudit,
          auditor,
          logger,
          requestTimeoutMs: config.requestTimeoutMs,
          resourceMetadataUrl: protectedResource === undefined ? undefined : () => protectedResource.resourceMetadataUrl(),
        }),
        protectedResource,
        tokenEndpoint: createTokenEndpoint({ authenticator: policy.authenticator, logger }),
        metrics: policy.metrics.registry,
        health,
        logger,
        allowedHosts: config.allowedHosts,
        allowedOrigins: config.allowedOrigins,
        eventBus: liveUpdates,
        maxListenUris: config.liveUpdates.maxListenUris,
        ...(options.closeGraceMs === undefined ? {} : { closeGraceMs: options.closeGraceMs }),
      });
      http = created;
      if (config.allowedHosts.includes('*')) logger.warn('MCP_ALLOWED_HOSTS is *: Host validation is off; put a proxy that checks Host in front');
      const auth = policy.authenticator;
      if (!auth.enabled && !isLoopback(config.httpHost)) {
        logger.warn({ httpHost: config.httpHost }, 'authentication is disabled on a non-loopback address: anyone who reaches it can change the Core (set MCP_AUTH_ENABLED=true and MCP_API_KEYS)');
      }
      if (auth.enabled && auth.keyCount === 0 && auth.oauth === undefined) logger.warn('authentication is enabled without API keys or OAuth issuers: only the anonymous tools can be called');
      logger.info(
        { authentication: auth.enabled, apiKeyCount: auth.keyCount, bearerTokens: auth.tokensEnabled, oauth: auth.oauth !== undefined, rateLimiting: config.rateLimiting.enabled ? { ...config.rateLimiting } : false },
        'protections',
      );
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        created.server.once('error', onError);
        created.server.listen(config.httpPort, config.httpHost, () => {
          created.server.off('error', onError);
          resolve();
        });
      });
      const { port } = created.server.address() as AddressInfo;
      const origin = `http://${urlHost(config.httpHost)}:${port}`;
      if (protectedResource !== undefined && oauth !== undefined && oauthConfig !== undefined) {
        if (oauthConfig.resource === undefined && !isLoopback(config.httpHost)) {
          logger.warn({ origin }, 'MCP_PUBLIC_URL is not set: the OAuth metadata names the address the gateway listens on, which clients behind a proxy cannot reach');
        }
        protectedResource.bind(origin);
        oauth.start();
        logger.info(
          { issuers: oauthConfig.issuers, audience: protectedResource.audience(), resourceMetadata: protectedResource.resourceMetadataUrl(), jwksUri: oauthConfig.jwksUri ?? 'discovered' },
          'OAuth resource server',
        );
      }
      return { port, url: `${origin}${MCP_PATH}` };
    },

    serveStdio(stdioOptions = {}) {
      // The stdio caller is fixed for the connection: MCP_API_KEY's identity when authentication
      // is on and the key is set, else `local` with every scope.
      const caller: Promise<StdioCaller> = policy.authenticator.stdioPrincipal().then(
        (principal) => {
          logger.info({ clientId: principal.clientId, via: principal.via }, 'stdio caller');
          return { principal };
        },
        (err: unknown) => {
          const refusal = toAppError(err);
          logger.warn({ reason: refusal.details?.reason }, 'MCP_API_KEY is not a valid API key: stdio tool calls will be refused');
          return { refusal };
        },
      );
      // Tool calls with a `__proto__` argument, seen on the raw lines before the SDK drops the key.
      const protoArgumentCalls = new Set<string>();
      const admitResource = stdioAdmitResource(policy, caller, (method, clientId, refusal) =>
        auditor.refused({ tool: null, clientId, requestId: randomUUID(), transport: 'stdio', method, startedAt: Date.now() }, refusal),
      );
      const factory = createMcpServerFactory({
        ...serverDeps,
        protoArgumentCalls,
        admitCall: stdioAdmitCall(policy, caller, (tool, clientId, refusal) =>
          auditor.refused({ tool, clientId, requestId: randomUUID(), transport: 'stdio', method: 'tools/call', startedAt: Date.now() }, refusal),
        ),
        admitResource,
      });
      // Live updates on this connection: listens (2026-07-28) and resources/subscribe (2025),
      // from the same event bus as the HTTP listens (stdio-live.ts).
      const live = createStdioLiveUpdates({
        events: liveUpdates,
        logger,
        maxUris: config.liveUpdates.maxListenUris,
        admit: admitResource,
      });
      const transport =
        stdioOptions.transport ??
        new StdioServerTransport(inspectStdin(stdioOptions.streams?.stdin ?? process.stdin, protoArgumentCalls), stdioOptions.streams?.stdout ?? process.stdout);
      const sdkHandle = sdkServeStdio((ctx) => live.attach(factory(), ctx.era), {
        onerror: (error) => logger.warn({ err: error }, 'MCP stdio error'),
        transport: live.guard(transport),
      });
      const handle: StdioServerHandle = {
        close: async () => {
          stdioHandles.delete(handle);
          await sdkHandle.close();
          live.close();
        },
      };
      stdioHandles.add(handle);
      return handle;
    },

    close() {
      closing ??= (async () => {
        const handles = [...stdioHandles];
        stdioHandles.clear();
        await Promise.allSettled([http?.close(), ...handles.map((h) => h.close())]);
        oauth?.close();
        liveUpdates.close();
        // After the last request: its events are recorded or buffered by now.
        await publisher.close();
        health.stop();
      })();
      return closing;
    },
  };
}
