import { ConfigError, parseCommandLine } from '@qsys-mcp/gateway';
import { createLogger, createShutdown, exitIfPortsBusy, helpRequested, reportStartupFailure } from '@qsys-mcp/observability';
import { readyBanner } from './banner.js';
import { loadStandaloneConfig, type StandaloneConfig } from './config.js';
import { startStandalone } from './standalone.js';
import { STANDALONE_USAGE } from './usage.js';

// Wiring only: --help -> config -> port check -> logger -> the gateway, connector, audit store
// and (without a Core configured) the simulated Core in one process over the in-memory bus.
// Command line: `--stdio` (MCP on stdin/stdout, logs on stderr), `--config PATH` /
// `--config=PATH` (see docs/configuration.md).

const argv = process.argv.slice(2);
if (helpRequested(argv)) {
  process.stdout.write(STANDALONE_USAGE);
  process.exit(0);
}

function configOrExit(): StandaloneConfig {
  try {
    return loadStandaloneConfig(process.env, parseCommandLine(argv));
  } catch (err) {
    // No logger exists yet: lines for a person on a terminal, else one JSON line.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    const configFile = err instanceof ConfigError ? err.configFile : undefined;
    reportStartupFailure({ service: 'standalone', msg: 'invalid configuration', configFile, problems }, process.env);
    process.exit(1);
  }
}

const config = configOrExit();
const stdio = config.gateway.transport === 'stdio';
// Before the simulator, the connector and the audit store start, so that nothing is half started.
if (!stdio) await exitIfPortsBusy('standalone', [{ host: config.gateway.httpHost, port: config.gateway.httpPort, setting: 'MCP_HTTP_PORT or http.port' }], process.env);
const logger = createLogger({ name: 'standalone', level: config.gateway.logLevel, stream: stdio ? 'stderr' : 'stdout' });
const shutdown = createShutdown({ logger });
const about = {
  configFile: config.gateway.configFile,
  name: config.gateway.name,
  version: config.gateway.version,
  simulated: config.simulated,
  auditDb: config.audit.enabled ? config.audit.dbPath : null,
};

try {
  const stack = await startStandalone({ env: process.env, config, logger });
  shutdown.add({ name: 'standalone', close: () => stack.close() });
  // SIGHUP: the connector's safety rules again from the config file and the SAFETY_* variables.
  const onHangup = (): void => void stack.reloadSafety();
  process.on('SIGHUP', onHangup);
  shutdown.add({ name: 'safety reload', close: () => void process.off('SIGHUP', onHangup) });
  if (stdio) {
    process.stdin.once('end', () => void shutdown.run('stdin closed'));
    logger.info({ transport: 'stdio', ...about }, 'ready');
  } else if (stack.http !== undefined) {
    const { url, port } = stack.http;
    logger.info({ transport: 'http', httpPort: port, url, ...about }, 'ready');
    const auth = config.gateway.authentication;
    process.stderr.write(
      readyBanner({
        url,
        simulated: stack.simulator !== undefined,
        auth: { enabled: auth.enabled, keyCount: auth.apiKeys.length },
        auditDb: config.audit.enabled ? config.audit.dbPath : undefined,
      }),
    );
  }
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  await shutdown.run('start-up failure', 1);
}
