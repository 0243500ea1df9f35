import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RetentionConfig } from '@qsys-mcp/audit';
import { loadConfig as loadConnectorConfig } from '@qsys-mcp/connector';
import type { ConnectorConfig } from '@qsys-mcp/connector';
import { ConfigError, loadConfigAndFile } from '@qsys-mcp/gateway';
import type { ConfigFile, ConfigOverrides, GatewayConfig, QrwcFileSettings } from '@qsys-mcp/gateway';

/** The config file's `safety` section. */
type SafetyFileSettings = NonNullable<ConfigFile['safety']>;

type AuditFileSettings = NonNullable<ConfigFile['audit']>;

type Env = Readonly<Record<string, string | undefined>>;

/** Where the standalone process keeps its audit store unless `AUDIT_DB_PATH` or `audit.dbPath` says otherwise. */
export function defaultAuditDbPath(): string {
  return join(homedir(), '.qsys-mcp', 'audit.sqlite');
}

/** The audit store of the standalone process. */
export interface StandaloneAuditConfig {
  /** Record and store audit events (`MCP_AUDIT_ENABLED`, `audit.enabled`). @default true */
  readonly enabled: boolean;
  /** SQLite file (`AUDIT_DB_PATH`, `audit.dbPath`). @default `~/.qsys-mcp/audit.sqlite` */
  readonly dbPath: string;
  /** Retention (`AUDIT_RETENTION_DAYS` / `audit.retentionDays`, default 90 days; `AUDIT_RETENTION_MAX_ROWS` / `audit.retentionMaxRows`, default 1000000; checked hourly). */
  readonly retention: RetentionConfig;
}

const DAY_MS = 86_400_000;
/** Defaults of the standalone audit store (a desktop keeps fewer rows than the audit service). */
export const DEFAULT_STANDALONE_RETENTION = Object.freeze({ days: 90, maxRows: 1_000_000, intervalMs: 3_600_000 });

/** A variable as a number within `min..max` (integer when `integer`); undefined when unset or empty; a problem otherwise. */
function numberVar(env: Env, name: string, min: number, max: number, integer: boolean, problems: string[]): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    problems.push(`${name}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  return value;
}

function auditConfigOf(env: Env, file: AuditFileSettings | undefined, enabled: boolean, problems: string[]): StandaloneAuditConfig {
  const e = {
    AUDIT_DB_PATH: env.AUDIT_DB_PATH === '' ? undefined : env.AUDIT_DB_PATH,
    AUDIT_RETENTION_DAYS: numberVar(env, 'AUDIT_RETENTION_DAYS', 0, 36_500, false, problems),
    AUDIT_RETENTION_MAX_ROWS: numberVar(env, 'AUDIT_RETENTION_MAX_ROWS', 0, 1_000_000_000, true, problems),
  };
  const days = e.AUDIT_RETENTION_DAYS ?? file?.retentionDays ?? DEFAULT_STANDALONE_RETENTION.days;
  return Object.freeze({
    enabled,
    dbPath: e.AUDIT_DB_PATH ?? file?.dbPath ?? defaultAuditDbPath(),
    retention: Object.freeze({
      maxAgeMs: Math.round(days * DAY_MS),
      maxRows: e.AUDIT_RETENTION_MAX_ROWS ?? file?.retentionMaxRows ?? DEFAULT_STANDALONE_RETENTION.maxRows,
      intervalMs: DEFAULT_STANDALONE_RETENTION.intervalMs,
    }),
  });
}

/**
 * The standalone process's configuration: the gateway's (defaults < config file < environment <
 * flags) plus what its connector needs. The config file's `qrwc` section drives the connector
 * (the `QSYS_*` variables win over it), and `transport` selects stdio or HTTP.
 */
export interface StandaloneConfig {
  /** The gateway module's configuration. */
  readonly gateway: GatewayConfig;
  /** The config file's `qrwc` section, if any. @default undefined */
  readonly qrwc: QrwcFileSettings | undefined;
  /** The config file's `safety` section, if any (the connector's safety envelope). @default undefined */
  readonly safety: SafetyFileSettings | undefined;
  /** No Core configured (neither `QSYS_HOST` nor `qrwc.host`): the built-in simulator is started. */
  readonly simulated: boolean;
  /** Design file of the built-in simulator (`SIM_DESIGN`). @default the simulator's default design */
  readonly simDesign: string | undefined;
  /** The environment the connector module reads (`QSYS_*`, `LOG_LEVEL`). */
  readonly env: Env;
  /** The audit store written by the audit module over the in-memory bus. */
  readonly audit: StandaloneAuditConfig;
}

/** Where the built-in simulator listens, for {@link connectorConfigFor}. */
export interface SimulatorAddress {
  readonly host: string;
  readonly wsPort: number;
}

/**
 * The connector module's configuration: `QSYS_*` variables over the file's `qrwc` section over
 * the defaults; with the built-in simulator, its address (ws, no TLS) over everything. The core
 * id follows `QSYS_CORE_ID`, else `qrwc.coreId`, else the gateway's default core, so that
 * tool calls without `core` reach this connector.
 * @throws the connector's ConfigError (`problems`, one line each).
 */
export function connectorConfigFor(config: StandaloneConfig, simulator?: SimulatorAddress): Readonly<ConnectorConfig> {
  return connectorConfigOf(config.env, config.qrwc, config.safety, config.gateway.defaultCore, simulator);
}

function connectorConfigOf(env: Env, qrwc: QrwcFileSettings | undefined, safety: SafetyFileSettings | undefined, defaultCore: string, simulator?: SimulatorAddress): Readonly<ConnectorConfig> {
  const connectorEnv: Record<string, string | undefined> = {
    ...env,
    // The file was read once already: its qrwc section is passed below.
    MCP_CONFIG: undefined,
    QSYS_CORE_ID: env.QSYS_CORE_ID || qrwc?.coreId || defaultCore,
  };
  if (simulator !== undefined) {
    Object.assign(connectorEnv, { QSYS_HOST: simulator.host, QSYS_PORT: String(simulator.wsPort), QSYS_SECURE: 'false', QSYS_TRANSPORT: 'websocket' });
  }
  return loadConnectorConfig(connectorEnv, { qrwc: qrwc ?? {}, safety: safety ?? {} });
}

function problemsOf(err: unknown): readonly string[] {
  if (err !== null && typeof err === 'object' && 'problems' in err && Array.isArray(err.problems)) return err.problems as string[];
  return [String(err)];
}

// A placeholder address to validate the connector's settings before the simulator exists.
const SIMULATOR_PLACEHOLDER: SimulatorAddress = { host: '127.0.0.1', wsPort: 1 };

/**
 * Reads the standalone configuration: the gateway's (config file from `overrides.configPath` or
 * `MCP_CONFIG`, environment, flags) and the connector's, validated together.
 * @throws ConfigError listing every problem of both modules at once.
 */
export function loadStandaloneConfig(env: Env, overrides: ConfigOverrides = {}): StandaloneConfig {
  const problems: string[] = [];
  let configFile: string | undefined;
  let loaded: ReturnType<typeof loadConfigAndFile> | undefined;
  try {
    loaded = loadConfigAndFile(env, overrides);
  } catch (err) {
    problems.push(...problemsOf(err));
    if (err instanceof ConfigError) configFile = err.configFile;
  }
  const qrwc = loaded?.file?.qrwc;
  const safety = loaded?.file?.safety;
  const simulated = !env.QSYS_HOST && qrwc?.host === undefined;
  try {
    // Validated now, with a placeholder for the simulator's address, so that every problem of
    // both modules is listed at once; rebuilt once the simulator is listening.
    connectorConfigOf(env, qrwc, safety, loaded?.config.defaultCore ?? 'main', simulated ? SIMULATOR_PLACEHOLDER : undefined);
  } catch (err) {
    problems.push(...problemsOf(err));
    configFile ??= loaded?.config.configFile;
  }
  const audit = auditConfigOf(env, loaded?.file?.audit, loaded?.config.audit.enabled ?? true, problems);
  if (loaded !== undefined && problems.length === 0) {
    return { gateway: loaded.config, qrwc, safety, simulated, simDesign: env.SIM_DESIGN || undefined, env, audit };
  }
  throw new ConfigError(dedupe(problems), { subject: 'standalone', ...(configFile === undefined ? {} : { configFile }) });
}

// The gateway and the connector both read QSYS_CORE_ID (and LOG_LEVEL): report each variable once.
function dedupe(problems: readonly string[]): string[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const name = p.split(':')[0] ?? p;
    if (/^[A-Z][A-Z0-9_]*$/.test(name)) {
      if (seen.has(name)) return false;
      seen.add(name);
    }
    return true;
  });
}
