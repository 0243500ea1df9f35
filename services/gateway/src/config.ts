import { hostname } from 'node:os';
import { z } from 'zod';
import { CoreIdSchema } from '@qsys-mcp/contracts';
import type { AuthenticationConfig, RateLimitingConfig, ValidationConfig } from './protection-config.js';

/** Transports the gateway serves MCP over. */
export const MCP_TRANSPORTS = ['http', 'stdio'] as const;
export type McpTransport = (typeof MCP_TRANSPORTS)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Hostnames that make a loopback deployment work (the SDK's own localhost list). */
export const DEFAULT_ALLOWED_HOSTS = 'localhost,127.0.0.1,[::1]';

// `nats://host:port`, `tls://…`, `ws://…`, `wss://…` or a bare `host:port`.
const NATS_SERVER = /^(?:(?:nats|tls|ws|wss):\/\/)?[^\s,/]+(?::\d{1,5})?\/?$/;

/** A comma-separated list: entries trimmed, empty entries dropped. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// An empty variable (`FOO=` in a compose file) counts as unset, so the default applies.
const env = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

const EnvSchema = z.object({
  NATS_URL: env(
    z
      .string()
      .default('nats://127.0.0.1:4222')
      .transform(commaList)
      .pipe(z.array(z.string().regex(NATS_SERVER, 'must be nats://host:port (comma-separated for several)')).min(1)),
  ),
  MCP_TRANSPORT: env(z.enum(MCP_TRANSPORTS).default('http')),
  MCP_HTTP_HOST: env(z.string().min(1).default('127.0.0.1')),
  MCP_HTTP_PORT: env(z.coerce.number().int().min(0).max(65535).default(8080)),
  MCP_ALLOWED_HOSTS: env(z.string().default(DEFAULT_ALLOWED_HOSTS).transform(commaList).pipe(z.array(z.string()).min(1))),
  MCP_ALLOWED_ORIGINS: env(z.string().default(DEFAULT_ALLOWED_HOSTS).transform(commaList).pipe(z.array(z.string()).min(1))),
  QSYS_CORE_ID: env(CoreIdSchema.default('main')),
  MCP_REQUEST_TIMEOUT_MS: env(z.coerce.number().int().min(1).max(600_000).default(10_000)),
  GATEWAY_INSTANCE_ID: env(
    z
      .string()
      .min(1)
      .max(128)
      .default(() => `${hostname()}-${process.pid}`),
  ),
  LOG_LEVEL: env(z.enum(LOG_LEVELS).default('info')),
  MCP_AUTH_ENABLED: env(z.stringbool().default(false)),
  MCP_API_KEYS: env(z.string().transform(commaList).optional()),
  MCP_JWT_SECRET: env(z.string().min(32, 'must be at least 32 characters').optional()),
  MCP_API_KEY: env(z.string().min(1).optional()),
  MCP_RATE_LIMIT_ENABLED: env(z.stringbool().default(true)),
  MCP_RATE_LIMIT_RPM: env(z.coerce.number().positive().max(1_000_000).default(60)),
  MCP_RATE_LIMIT_BURST: env(z.coerce.number().int().min(1).max(1_000_000).default(10)),
  MCP_RATE_LIMIT_PER_CLIENT: env(z.stringbool().default(false)),
});

/** The gateway's configuration, parsed once from the environment and frozen. */
export interface GatewayConfig {
  /** NATS servers (`NATS_URL`, comma-separated). @default ['nats://127.0.0.1:4222'] */
  readonly natsServers: readonly string[];
  /** MCP transport (`MCP_TRANSPORT`, or the `--stdio` flag). @default 'http' */
  readonly transport: McpTransport;
  /** Address the HTTP server binds (`MCP_HTTP_HOST`). @default '127.0.0.1' */
  readonly httpHost: string;
  /** HTTP port (`MCP_HTTP_PORT`); 0 lets the OS choose. @default 8080 */
  readonly httpPort: number;
  /**
   * Hostnames accepted in the `Host` header of `/mcp` requests, without ports; `[::1]` for IPv6
   * (`MCP_ALLOWED_HOSTS`). `*` accepts any host (behind a proxy that checks it).
   * @default ['localhost', '127.0.0.1', '[::1]']
   */
  readonly allowedHosts: readonly string[];
  /**
   * Hostnames accepted in the `Origin` header of `/mcp` requests (`MCP_ALLOWED_ORIGINS`); requests
   * without `Origin` (non-browser clients) always pass. `*` accepts any origin.
   * @default ['localhost', '127.0.0.1', '[::1]']
   */
  readonly allowedOrigins: readonly string[];
  /** Core used when a tool call names none (`QSYS_CORE_ID`). @default 'main' */
  readonly defaultCore: string;
  /** Deadline of one tool call's connector request, ms (`MCP_REQUEST_TIMEOUT_MS`). @default 10000 */
  readonly requestTimeoutMs: number;
  /** This replica's id, reported by `system.ping` (`GATEWAY_INSTANCE_ID`). @default `<hostname>-<pid>` */
  readonly instanceId: string;
  /** pino level (`LOG_LEVEL`). @default 'info' */
  readonly logLevel: string;
  /** Authentication settings. */
  readonly authentication: AuthenticationConfig;
  /** Rate limiting settings. */
  readonly rateLimiting: RateLimitingConfig;
  /** Input validation settings. */
  readonly validation: ValidationConfig;
}

/** Overrides taken from the command line (parsed by `main.ts`). */
export interface ConfigOverrides {
  /** Transport selected by a flag (`--stdio`); wins over `MCP_TRANSPORT`. */
  transport?: McpTransport;
}

/** The configuration is invalid; `problems` lists every invalid variable, one line each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`Invalid gateway configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * Parses the gateway's configuration from `env` (normally `process.env`; nothing else reads it).
 * Empty variables count as unset.
 * @throws ConfigError listing every invalid variable at once.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, overrides: ConfigOverrides = {}): GatewayConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const [name, ...rest] = i.path;
        return `${String(name ?? '(env)')}${rest.map((k) => `[${String(k)}]`).join('')}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  return Object.freeze({
    natsServers: Object.freeze(e.NATS_URL),
    transport: overrides.transport ?? e.MCP_TRANSPORT,
    httpHost: e.MCP_HTTP_HOST,
    httpPort: e.MCP_HTTP_PORT,
    allowedHosts: Object.freeze(e.MCP_ALLOWED_HOSTS),
    allowedOrigins: Object.freeze(e.MCP_ALLOWED_ORIGINS),
    defaultCore: e.QSYS_CORE_ID,
    requestTimeoutMs: e.MCP_REQUEST_TIMEOUT_MS,
    instanceId: e.GATEWAY_INSTANCE_ID,
    logLevel: e.LOG_LEVEL,
    authentication: Object.freeze({
      enabled: e.MCP_AUTH_ENABLED,
      apiKeys: Object.freeze(e.MCP_API_KEYS ?? []),
      tokenExpiration: 3600,
      allowAnonymous: Object.freeze(['system.ping', 'system.health']),
      jwtSecret: e.MCP_JWT_SECRET,
      stdioApiKey: e.MCP_API_KEY,
    }),
    rateLimiting: Object.freeze({
      enabled: e.MCP_RATE_LIMIT_ENABLED,
      requestsPerMinute: e.MCP_RATE_LIMIT_RPM,
      burstSize: e.MCP_RATE_LIMIT_BURST,
      perClient: e.MCP_RATE_LIMIT_PER_CLIENT,
      maxClients: 10_000,
    }),
    validation: Object.freeze({ componentNamePattern: undefined }),
  });
}
