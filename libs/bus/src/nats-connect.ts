import { logWhileWaiting, type Logger } from '@qsys-mcp/observability';
import { createNatsBus, type NatsBus } from './nats.js';

/** What a service's configuration says about NATS. */
export interface ServiceNatsSettings {
  /** Server URL(s). */
  readonly servers: string | readonly string[];
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** Prefix of reply inboxes (to fit per-service subject permissions). */
  readonly inboxPrefix?: string | undefined;
}

/**
 * Connects a service process to NATS the way every service does it: a server not up yet is
 * waited for (forever, reconnecting), with a `waiting for NATS at …: <fix>` warning every 5 s
 * meanwhile, so that an orchestrator's start order does not matter and the operator sees why
 * the service is not ready.
 * @param name connection name shown by the server's monitoring, e.g. `gateway-7f9c`
 * @param fix what the warning tells the operator to do
 */
export function connectServiceBus(logger: Logger, name: string, nats: ServiceNatsSettings, fix = 'start nats-server there or set NATS_URL'): Promise<NatsBus> {
  const servers = typeof nats.servers === 'string' ? nats.servers : [...nats.servers];
  const where = typeof servers === 'string' ? servers : servers.join(',');
  return logWhileWaiting(
    logger,
    createNatsBus({
      servers,
      name,
      logger,
      waitOnFirstConnect: true,
      ...(nats.user === undefined ? {} : { user: nats.user, pass: nats.password }),
      ...(nats.inboxPrefix === undefined ? {} : { inboxPrefix: nats.inboxPrefix }),
    }),
    { what: `NATS at ${where}`, fix, fields: { natsServers: servers } },
  );
}
