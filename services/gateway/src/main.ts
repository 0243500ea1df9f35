import { connectServiceBus, ensureNatsStream } from '@qsys-mcp/bus/nats';
import { AUDIT_EVENTS_WILDCARD, AUDIT_STREAM, AUDIT_STREAM_DEFAULTS, CHANGE_FEED_STREAM, CHANGE_FEED_SUBJECTS } from '@qsys-mcp/contracts';
import type { NatsBus } from '@qsys-mcp/bus/nats';
import { createLogger, createShutdown, exitIfPortsBusy, helpRequested, reportStartupFailure, startWaitingServer } from '@qsys-mcp/observability';
import type { WaitingServer } from '@qsys-mcp/observability';
import { ConfigError, loadConfig, parseCommandLine } from './config.js';
import type { GatewayConfig } from './config.js';
import { createGateway } from './gateway.js';
import type { Gateway } from './gateway.js';
import { GATEWAY_USAGE } from './usage.js';

// Wiring only: --help -> config -> port check -> logger -> NATS (waited for) -> gateway ->
// listen (or stdio). On SIGTERM/SIGINT the shutdown runs in reverse: stop HTTP/stdio, then
// drain and close NATS. Command line: `--stdio`, `--config PATH` / `--config=PATH`.

const argv = process.argv.slice(2);
if (helpRequested(argv)) {
  process.stdout.write(GATEWAY_USAGE);
  process.exit(0);
}

function configOrExit(): GatewayConfig {
  try {
    return loadConfig(process.env, parseCommandLine(argv));
  } catch (err) {
    // No logger exists yet: lines for a person on a terminal, else one JSON line.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    const configFile = err instanceof ConfigError ? err.configFile : undefined;
    reportStartupFailure({ service: 'gateway', msg: 'invalid configuration', configFile, problems }, process.env);
    process.exit(1);
  }
}

const config = configOrExit();
const stdio = config.transport === 'stdio';
if (!stdio) await exitIfPortsBusy('gateway', [{ host: config.httpHost, port: config.httpPort, setting: 'MCP_HTTP_PORT or http.port' }], process.env);
// On stdio, stdout carries the protocol: logs go to stderr.
const logger = createLogger({ name: 'gateway', level: config.logLevel, stream: stdio ? 'stderr' : 'stdout', base: { instance: config.instanceId } });
const shutdown = createShutdown({ logger });
// Where the configuration came from, on the ready line.
const about = { natsServers: config.natsServers, configFile: config.configFile, name: config.name, version: config.version, debug: config.debug };

let bus: NatsBus | undefined;
let gateway: Gateway | undefined;
let waiting: WaitingServer | undefined;
try {
  // Until NATS answers, a placeholder holds the HTTP port: /livez 200, the rest 503 (not ready).
  if (!stdio && config.httpPort !== 0) waiting = await startWaitingServer(config.httpHost, config.httpPort, 'NATS');
  // NATS not up yet is waited for (as the connector and the audit service do), saying so.
  const natsBus = await connectServiceBus(
    logger,
    `gateway-${config.instanceId}`,
    { servers: config.natsServers, user: config.natsUser, password: config.natsPassword, inboxPrefix: config.natsInboxPrefix },
    'start nats-server there or set NATS_URL (nats.servers)',
  );
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
    // The gateways own the change feed's stream: each brings it to its configured limits.
    changeFeed: {
      reader: natsBus,
      ensureStream: () => {
        const { streamMaxAgeMs, streamMaxBytes, streamMaxMessages } = config.changeFeed;
        const stream = { name: CHANGE_FEED_STREAM, subjects: [CHANGE_FEED_SUBJECTS], maxAgeMs: streamMaxAgeMs, maxBytes: streamMaxBytes, maxMessages: streamMaxMessages };
        // The events carry no message id; the window only has to fit within the age limit.
        return ensureNatsStream(natsBus, { ...stream, duplicateWindowMs: Math.min(streamMaxAgeMs, 120_000) }, 'create-or-update');
      },
    },
  });
  gateway = gw;
  shutdown.add({ name: 'gateway', close: () => gw.close() });

  if (stdio) {
    gw.serveStdio();
    // The client closing stdin ends the session, and the process with it.
    process.stdin.once('end', () => void shutdown.run('stdin closed'));
    logger.info({ transport: 'stdio', ...about }, 'ready');
  } else {
    await waiting?.close();
    waiting = undefined;
    const { port, url } = await gw.listen();
    logger.info({ transport: 'http', httpPort: port, url, ...about }, 'ready');
  }
} catch (err) {
  logger.fatal({ err }, 'gateway failed to start');
  await Promise.allSettled([gateway?.close(), waiting?.close()]);
  await Promise.allSettled([bus?.close()]);
  logger.flush();
  process.exit(1);
}
