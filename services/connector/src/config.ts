import { hostname } from 'node:os';
import { z } from 'zod';
import { CoreIdSchema } from '@qsys-mcp/contracts';

const bool = z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] });
const port = z.coerce.number().int().min(0).max(65535);
const ms = (dflt: number) => z.coerce.number().int().min(1).default(dflt);

/** Environment of the connector; defaults live here. */
const EnvSchema = z.object({
  /** Core id used in subjects (`qsys.<id>.*`). */
  QSYS_CORE_ID: CoreIdSchema.default('main'),
  /** Core host name or address. */
  QSYS_HOST: z.string().min(1, 'QSYS_HOST is required: the Core (or simulator) address'),
  /** Port; default 443 with QSYS_SECURE, 80 without, 1710 with QSYS_TRANSPORT=tcp. */
  QSYS_PORT: port.optional(),
  /** wss:// (true) or ws:// (false). */
  QSYS_SECURE: bool.default(true),
  /** `websocket` (QRWC endpoint /qrc-public-api/v0) or `tcp` (QRC on 1710). */
  QSYS_TRANSPORT: z.enum(['websocket', 'tcp']).default('websocket'),
  /** Accept the Core's self-signed certificate (Cores ship one). */
  QSYS_ALLOW_SELF_SIGNED: bool.default(true),
  QSYS_USERNAME: z.string().optional(),
  QSYS_PASSWORD: z.string().optional(),
  /** Per-request timeout to the Core. */
  QSYS_REQUEST_TIMEOUT_MS: ms(5000),
  /** First reconnect delay; doubles with jitter up to QSYS_RECONNECT_MAX_MS. */
  QSYS_RECONNECT_INTERVAL_MS: ms(1000),
  QSYS_RECONNECT_MAX_MS: ms(30_000),
  /** NoOp keepalive after this much idle time (the Core drops clients idle for 60 s). */
  QSYS_KEEPALIVE_MS: ms(15_000),
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  CONNECTOR_INSTANCE_ID: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The connector's validated, frozen configuration. */
export interface ConnectorConfig {
  coreId: string;
  core: {
    host: string;
    port: number;
    transport: 'ws' | 'wss' | 'tcp';
    allowSelfSigned: boolean;
    username: string | undefined;
    password: string | undefined;
    requestTimeoutMs: number;
    reconnectIntervalMs: number;
    reconnectMaxMs: number;
    keepaliveMs: number;
  };
  natsUrl: string;
  instanceId: string;
  logLevel: string;
}

/**
 * Parses the connector's configuration from the environment.
 * @throws Error listing every problem (variable, expected, got) when the environment is invalid.
 */
export function loadConfig(env: Record<string, string | undefined>): Readonly<ConnectorConfig> {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new Error(`Invalid connector configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const transport = e.QSYS_TRANSPORT === 'tcp' ? 'tcp' : e.QSYS_SECURE ? 'wss' : 'ws';
  const defaultPort = transport === 'tcp' ? 1710 : transport === 'wss' ? 443 : 80;
  const config: ConnectorConfig = {
    coreId: e.QSYS_CORE_ID,
    core: {
      host: e.QSYS_HOST,
      port: e.QSYS_PORT ?? defaultPort,
      transport,
      allowSelfSigned: e.QSYS_ALLOW_SELF_SIGNED,
      username: e.QSYS_USERNAME || undefined,
      password: e.QSYS_PASSWORD || undefined,
      requestTimeoutMs: e.QSYS_REQUEST_TIMEOUT_MS,
      reconnectIntervalMs: e.QSYS_RECONNECT_INTERVAL_MS,
      reconnectMaxMs: e.QSYS_RECONNECT_MAX_MS,
      keepaliveMs: e.QSYS_KEEPALIVE_MS,
    },
    natsUrl: e.NATS_URL,
    instanceId: e.CONNECTOR_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
  };
  return Object.freeze({ ...config, core: Object.freeze(config.core) });
}
