import type { Bus } from '@qsys-mcp/bus';
import { AppError, CORE_CONTRACTS, HEADERS, coreSubject } from '@qsys-mcp/contracts';
import type { CoreOperation, CoreReply, CoreRequest } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { GatewayMetrics } from './metrics.js';

/** Who is calling and until when; one per tool call. */
export interface CallContext {
  /** Core id (`[a-z0-9_-]+`). */
  core: string;
  /** Request id, sent as `Qsys-Request-Id`. */
  requestId: string;
  /** Acting client id, sent as `Qsys-Client-Id`. */
  clientId: string;
  /** Absolute deadline of the call, epoch milliseconds. */
  deadline: number;
  /** W3C trace context, sent as `traceparent` when present. */
  traceparent?: string;
  /**
   * The caller's scopes, sent as `Qsys-Scopes` (space-separated) for the connector's safety
   * envelope; absent: no header, which the connector treats as no scope (not `qsys:admin`).
   */
  scopes?: readonly string[];
  /** Child logger of the request. */
  logger: Logger;
}

/** Sends one connector operation and returns its validated reply. */
export type CallCore = <Op extends CoreOperation>(op: Op, request: CoreRequest<Op>, ctx: CallContext) => Promise<CoreReply<Op>>;

/** Dependencies of {@link createCoreClient}. */
export interface CoreClientDeps {
  bus: Pick<Bus, 'request'>;
  /** Records the NATS request time (`mcp_nats_request_duration_seconds`). */
  metrics?: Pick<GatewayMetrics, 'natsRequest'>;
  /**
   * Set when the bus is in-process (the standalone process: one connector, no NATS): a core
   * without a connector is explained with the core this process serves instead of NATS.
   * @default undefined (the connectors are reached over NATS)
   */
  inProcess?: { readonly servedCore: string };
}

const BUS_FAILURES = new Set(['BUS_NO_RESPONDERS', 'BUS_TIMEOUT', 'BUS_CLOSED']);

/** Why a core cannot be reached, in words that say what to check. */
function unavailableMessage(code: string, core: string, timeoutMs: number, inProcess: CoreClientDeps['inProcess']): string {
  if (inProcess !== undefined && code === 'BUS_NO_RESPONDERS') {
    return `No connector answers for core '${core}': this process runs one connector, for core '${inProcess.servedCore}'; name that core, or set QSYS_CORE_ID (qrwc.coreId) to serve another.`;
  }
  switch (code) {
    case 'BUS_NO_RESPONDERS':
      return `No connector answers for core '${core}': check that the connector for this core is running and connected to NATS.`;
    case 'BUS_TIMEOUT':
      return `The connector for core '${core}' did not answer within ${timeoutMs} ms: check that it is running and that the Core responds.`;
    default:
      return `The gateway's connection to NATS is closed or reconnecting, so core '${core}' cannot be reached: check the NATS server and the gateway's NATS_URL.`;
  }
}

/**
 * Builds {@link CallCore}: a NATS request to `qsys.<core>.<op>` carrying the request id, client id
 * and deadline headers, answered within the call's deadline.
 *
 * Failures, all as `AppError`:
 * - no connector, no answer before the deadline, or the bus closed → `CORE_UNAVAILABLE`
 *   (details `{ core, subject, cause }`), with a message naming the core and what to check;
 * - an error from the connector (`QSYS_UNKNOWN_COMPONENT`, `CIRCUIT_OPEN`, …) → passed through;
 * - a reply that does not match `CORE_CONTRACTS[op].reply`, or anything unexpected → `INTERNAL`
 *   (logged, not leaked).
 */
export function createCoreClient(deps: CoreClientDeps): CallCore {
  const { bus } = deps;

  return async function callCore<Op extends CoreOperation>(op: Op, request: CoreRequest<Op>, ctx: CallContext): Promise<CoreReply<Op>> {
    const subject = coreSubject(ctx.core, op);
    const timeoutMs = Math.max(1, ctx.deadline - Date.now());
    const headers: Record<string, string> = {
      [HEADERS.requestId]: ctx.requestId,
      [HEADERS.clientId]: ctx.clientId,
      [HEADERS.deadline]: String(ctx.deadline),
    };
    if (ctx.traceparent !== undefined) headers[HEADERS.traceparent] = ctx.traceparent;
    if (ctx.scopes !== undefined) headers[HEADERS.scopes] = ctx.scopes.join(' ');

    let reply: unknown;
    let guard: NodeJS.Timeout | undefined;
    const started = performance.now();
    let outcome: 'success' | 'error' = 'error';
    try {
      // The bus times out by itself; the guard makes the deadline hold even if an adapter does not.
      const deadlinePassed = new Promise<never>((_, reject) => {
        guard = setTimeout(() => reject(new AppError('BUS_TIMEOUT', 'deadline passed')), timeoutMs + 5);
      });
      reply = await Promise.race([bus.request(subject, request, { timeoutMs, headers }), deadlinePassed]);
      outcome = 'success';
    } catch (err) {
      // A domain error from the connector is a NATS round trip that worked.
      if (err instanceof AppError && !BUS_FAILURES.has(err.code)) outcome = 'success';
      if (err instanceof AppError) {
        if (BUS_FAILURES.has(err.code)) {
          throw new AppError('CORE_UNAVAILABLE', unavailableMessage(err.code, ctx.core, timeoutMs, deps.inProcess), {
            cause: err,
            details: { core: ctx.core, subject, cause: err.code },
          });
        }
        throw err;
      }
      ctx.logger.error({ err, subject }, 'connector request failed unexpectedly');
      throw new AppError('INTERNAL', 'Internal error', { cause: err });
    } finally {
      clearTimeout(guard);
      deps.metrics?.natsRequest(op, outcome, (performance.now() - started) / 1000);
    }

    const parsed = CORE_CONTRACTS[op].reply.safeParse(reply);
    if (!parsed.success) {
      ctx.logger.error({ subject, issues: parsed.error.issues }, 'connector reply does not match the contract');
      throw new AppError('INTERNAL', `The connector for core '${ctx.core}' sent a malformed reply`, { details: { core: ctx.core, subject } });
    }
    return parsed.data as CoreReply<Op>;
  };
}
