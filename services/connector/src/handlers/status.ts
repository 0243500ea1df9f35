import { CoreStatusRequestSchema, type CoreStatusReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import type { RedundantClient } from '../redundant-client.js';
import { parseRequest, type HandlerDeps } from './context.js';

/** `qsys.<core>.status`: the connection and the last engine status; answers even when the Core is down. */
export function createStatusHandler(deps: HandlerDeps & { coreId: string; host: string; port: number; pair: RedundantClient | undefined }): EndpointHandler {
  return async (req) => {
    parseRequest(CoreStatusRequestSchema, req);
    const { session } = deps;
    const status = session.status;
    const reply: CoreStatusReply = {
      coreId: deps.coreId,
      connected: session.connected,
      host: deps.host,
      port: deps.port,
      state: status?.state ?? 'Unknown',
      designName: status?.designName ?? '',
      designCode: status?.designCode ?? '',
      platform: status?.platform ?? '',
      isRedundant: status?.isRedundant ?? false,
      isEmulator: status?.isEmulator ?? false,
      status: status?.status ?? { code: -1, string: 'Unknown' },
      componentCount: session.catalog?.size ?? 0,
    };
    const nextAttemptAt = session.breaker.nextAttemptAt;
    reply.breaker = { state: session.breaker.state, ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(nextAttemptAt).toISOString() }) };
    reply.liveState = session.live.live;
    const caps = session.capabilities;
    reply.capabilities = { liveUpdates: caps.liveUpdates, unsupportedMethods: caps.unsupportedMethods, ...(caps.componentSetResult === undefined ? {} : { componentSetResult: caps.componentSetResult }) };
    const lastError = session.lastError;
    if (lastError !== undefined) reply.lastError = lastError;
    if (deps.pair !== undefined) {
      const pair = deps.pair.pairState;
      reply.redundancy = { active: pair.active ?? null, members: pair.members, ...(pair.alarm === undefined ? {} : { alarm: pair.alarm }) };
    }
    const since = session.connectedSince;
    if (since !== undefined) reply.connectedSince = since.toISOString();
    return reply;
  };
}
