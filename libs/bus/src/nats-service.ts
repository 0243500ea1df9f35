import type { Service, ServiceConfig, ServiceMsg, Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import { AppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { decodePayload, encodePayload, errorReply } from './codec.js';
import { InFlight, runHandler } from './handler-run.js';
import { fromNatsHeaders, mapNatsError } from './nats-wire.js';
import { assertServiceSpec } from './service-spec.js';
import type { EndpointSpec, ServiceHandle, ServiceSpec } from './types.js';

/** What serving on NATS needs from the bus that owns the connection. */
export interface NatsServeContext {
  nc: NatsConnection;
  svcm: Svcm;
  log: Logger;
  /** Every handler run of the bus, so that close() can wait for them. */
  inFlight: InFlight;
  /** Running services of the bus, stopped by close(). */
  services: Set<Service>;
  drainTimeoutMs: number;
  /** True when the bus or its connection is closed or draining. */
  isShut(): boolean;
}

function sendError(ctx: NatsServeContext, msg: ServiceMsg, error: AppError, where: Record<string, unknown>): void {
  const reply = errorReply(error);
  send(ctx, msg, () => msg.respondError(reply.status, reply.description, reply.body), where);
}

function send(ctx: NatsServeContext, msg: ServiceMsg, write: () => boolean, where: Record<string, unknown>): void {
  try {
    write();
  } catch (err) {
    // The connection closed while the handler ran; the caller gets BUS_CLOSED or a timeout.
    ctx.log.warn({ err, subject: msg.subject, ...where }, 'could not send a reply');
  }
}

/** Handles one request: decode, run the handler, reply with JSON or an error reply. */
async function handleMessage(ctx: NatsServeContext, msg: ServiceMsg, spec: ServiceSpec, endpoint: EndpointSpec): Promise<void> {
  const where = { service: spec.name, endpoint: endpoint.name };
  let data: unknown;
  try {
    data = decodePayload(msg.data);
  } catch (err) {
    ctx.log.warn({ err, subject: msg.subject, ...where }, 'request body is not JSON');
    sendError(ctx, msg, err instanceof AppError ? err : new AppError('PARSE_ERROR', 'Message body is not valid JSON'), where);
    return;
  }
  const outcome = await runHandler(endpoint.handler, { subject: msg.subject, data, headers: fromNatsHeaders(msg.headers) }, ctx.log, where);
  // A plain publish to an endpoint subject runs the handler but has nobody to answer.
  if (!msg.reply) return;
  if (!outcome.ok) {
    sendError(ctx, msg, outcome.error, where);
    return;
  }
  let body: Uint8Array;
  try {
    body = encodePayload(outcome.reply);
  } catch (err) {
    ctx.log.error({ err, subject: msg.subject, ...where }, 'endpoint reply is not JSON-serialisable');
    sendError(ctx, msg, new AppError('INTERNAL', 'Internal error'), where);
    return;
  }
  send(ctx, msg, () => msg.respond(body), where);
}

/**
 * Starts a service through the NATS services framework (discoverable with
 * `$SRV.PING/INFO/STATS`), one endpoint per spec endpoint, all in the spec's queue group.
 * Each request runs in its own task, concurrently with the others. Resolves once the server
 * has the subscriptions.
 * @throws AppError `INVALID_PARAMS` for a bad spec, `BUS_CLOSED` when the connection closes.
 */
export async function serveOnNats(ctx: NatsServeContext, spec: ServiceSpec): Promise<ServiceHandle> {
  assertServiceSpec(spec);
  const config: ServiceConfig = { name: spec.name, version: spec.version };
  if (spec.description !== undefined) config.description = spec.description;
  if (spec.metadata !== undefined) config.metadata = { ...spec.metadata };
  let service: Service;
  try {
    service = await ctx.svcm.add(config);
  } catch (err) {
    throw mapNatsError(err, `$SRV.INFO.${spec.name}`, 0, ctx.isShut());
  }
  ctx.services.add(service);
  const serviceInFlight = new InFlight();
  try {
    for (const endpoint of spec.endpoints) {
      // The queue goes on each endpoint: the framework refuses a service-level queue name
      // with dots (for example `qsys.main`), which NATS queue groups allow.
      service.addEndpoint(endpoint.name, {
        subject: endpoint.subject,
        queue: spec.queue,
        handler: (err, msg) => {
          if (err) {
            ctx.log.error({ err, service: spec.name, endpoint: endpoint.name }, 'endpoint subscription failed');
            return;
          }
          const task = handleMessage(ctx, msg, spec, endpoint);
          serviceInFlight.track(task);
          ctx.inFlight.track(task);
        },
      });
    }
    // The server must have the subscriptions before a caller on another connection asks.
    await ctx.nc.flush();
  } catch (err) {
    ctx.services.delete(service);
    await service.stop().catch(() => undefined);
    throw mapNatsError(err, spec.endpoints[0]?.subject ?? spec.name, 0, ctx.isShut());
  }
  const id = service.info().id;
  ctx.log.info({ service: spec.name, id, queue: spec.queue, endpoints: spec.endpoints.map((e) => e.subject) }, 'serving');
  let stopping: Promise<void> | undefined;
  return {
    name: spec.name,
    id,
    stop: () => {
      stopping ??= (async () => {
        ctx.services.delete(service);
        const err = await service.stop();
        if (err) ctx.log.warn({ err, service: spec.name }, 'service stopped with an error');
        const settled = await serviceInFlight.settle(ctx.drainTimeoutMs);
        if (!settled) ctx.log.warn({ service: spec.name, drainTimeoutMs: ctx.drainTimeoutMs }, 'stopped a service with handlers still running');
      })();
      return stopping;
    },
  };
}
