/**
 * The gateway's `audit` settings, as `GatewayConfig.audit` carries them after the config file
 * and the environment are merged (`config.ts`). Documented in `docs/configuration.md` and
 * `docs/audit.md`.
 */
export interface AuditSettings {
  /** Publish an audit event for every tool call and refusal (`MCP_AUDIT_ENABLED`, `audit.enabled`). @default true */
  readonly enabled: boolean;
  /**
   * Refuse a call that changes the Core (a tool that is not read-only) with `AUDIT_UNAVAILABLE`
   * unless JetStream acknowledged its intent record first (`MCP_AUDIT_FAIL_CLOSED`,
   * `audit.failClosed`). When false, events JetStream cannot take wait in the buffer.
   * @default false
   */
  readonly failClosed: boolean;
  /** Most events held in memory while JetStream cannot take them; the oldest are dropped beyond it (`MCP_AUDIT_BUFFER_SIZE`, `audit.bufferSize`). @default 10000 */
  readonly bufferSize: number;
  /** How long a publish waits for JetStream's acknowledgement, ms (`MCP_AUDIT_PUBLISH_TIMEOUT_MS`, `audit.publishTimeoutMs`). @default 2000 */
  readonly publishTimeoutMs: number;
  /** Pause between attempts to publish the buffer, ms (`MCP_AUDIT_RETRY_INTERVAL_MS`, `audit.retryIntervalMs`). @default 1000 */
  readonly retryIntervalMs: number;
  /** Largest JSON size of the arguments kept in an event, bytes; larger ones are left out (`audit.maxArgumentBytes`). @default 16384 */
  readonly maxArgumentBytes: number;
}

/** Defaults of {@link AuditSettings}. */
export const DEFAULT_AUDIT_SETTINGS: AuditSettings = Object.freeze({
  enabled: true,
  failClosed: false,
  bufferSize: 10_000,
  publishTimeoutMs: 2_000,
  retryIntervalMs: 1_000,
  maxArgumentBytes: 16_384,
});
