import { createNatsBus, ensureNatsStream } from '@qsys-mcp/bus/nats';
import { AUDIT_EVENTS_WILDCARD, AUDIT_STREAM, AUDIT_STREAM_DEFAULTS } from '@qsys-mcp/contracts';
import type { NatsBus } from '@qsys-mcp/bus/nats';
import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, parseCommandLine } from './config.js';
import type { GatewayConfig } from './config.js';
import { createGateway } from './gateway.js';
import type { Gateway } from './gateway.js';

// Wiring only: config -> logger -> NATS -> gateway -> listen (or stdio). On SIGTERM/SIGINT the
// shutdown runs in reverse: stop HTTP/stdio, then drain and close NATS.
// Command line: `--stdio`, `--config PATH` / `--config=PATH` (see docs/configuration.md).

function configOrExit(): GatewayConfig {
  try {
    return loadConfig(process.env, parseCommandLine(process.argv.slice(2)));
  } catch (err) {
    // No logger exists yet: one JSON line on stderr, then stop.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    const configFile = err instanceof ConfigError ? err.configFile : undefined;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'gateway', msg: 'invalid configuration', configFile, problems })}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
const stdio = config.transport === 'stdio';
// On stdio, stdout carries the protocol: logs go to stderr.
const logger = createLogger({ name: 'gateway', level: config.logLevel, stream: stdio ? 'stderr' : 'stdout', base: { instance: config.instanceId } });
const shutdown = createShutdown({ logger });
// Where the configuration came from, on the ready line.
const about = { natsServers: config.natsServers, configFile: config.configFile, name: config.name, version: config.version, debug: config.debug };

let bus: NatsBus | undefined;
let gateway: Gateway | undefined;
try {
  const natsBus = await createNatsBus({
    servers: [...config.natsServers],
    name: `gateway-${config.instanceId}`,
    logger,
    ...(config.natsUser === undefined ? {} : { user: config.natsUser, pass: config.natsPassword }),
    ...(config.natsInboxPrefix === undefined ? {} : { inboxPrefix: config.natsInboxPrefix }),
  });
  bus = natsBus;
  shutdown.add({ name: 'nats', close: () => natsBus.close() });

  const gw = createGateway({
    config,
    bus: natsBus,
    logger,
    busReady: () => natsBus.isConnected(),
    // The audit service owns the stream's limits; a gateway that starts first creates it with
    // the defaults, so that no event is refused for want of a stream.
    ensureAuditStream: () => ensureNatsStream(natsBus, { name: AUDIT_STREAM, subjects: [AUDIT_EVENTS_WILDCARD], ...AUDIT_STREAM_DEFAULTS }, 'create-if-missing'),
  });
  gateway = gw;
  shutdown.add({ name: 'gateway', close: () => gw.close() });

  if (stdio) {
    gw.serveStdio();
    // The client closing stdin ends the session, and the process with it.
    process.stdin.once('end', () => void shutdown.run('stdin closed'));
    logger.info({ transport: 'stdio', ...about }, 'ready');
  } else {
    const { port, url } = await gw.listen();
    logger.info({ transport: 'http', httpPort: port, url, ...about }, 'ready');
  }
} catch (err) {
  logger.fatal({ err }, 'gateway failed to start');
  await Promise.allSettled([gateway?.close()]);
  await Promise.allSettled([bus?.close()]);
  logger.flush();
  process.exit(1);
}
