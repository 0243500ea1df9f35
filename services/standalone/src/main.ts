import { ConfigError, parseCommandLine } from '@qsys-mcp/gateway';
import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { loadStandaloneConfig, type StandaloneConfig } from './config.js';
import { startStandalone } from './standalone.js';

// Wiring only: config -> logger -> the gateway, connector and (without a Core configured) the
// simulated Core in one process over the in-memory bus. Command line: `--stdio` (MCP on
// stdin/stdout, logs on stderr), `--config PATH` / `--config=PATH` (see docs/configuration.md).

function configOrExit(): StandaloneConfig {
  try {
    return loadStandaloneConfig(process.env, parseCommandLine(process.argv.slice(2)));
  } catch (err) {
    // No logger exists yet: one JSON line on stderr, then stop.
    const problems = err instanceof ConfigError ? err.problems : [String(err)];
    const configFile = err instanceof ConfigError ? err.configFile : undefined;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'standalone', msg: 'invalid configuration', configFile, problems })}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
const stdio = config.gateway.transport === 'stdio';
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
  if (stdio) {
    process.stdin.once('end', () => void shutdown.run('stdin closed'));
    logger.info({ transport: 'stdio', ...about }, 'ready');
  } else if (stack.http !== undefined) {
    const { url, port } = stack.http;
    logger.info({ transport: 'http', httpPort: port, url, ...about }, 'ready');
    process.stderr.write(
      `\nQ-SYS MCP server ready${stack.simulator ? ' (simulated Core)' : ''}\n` +
        `  MCP endpoint: ${url}\n` +
        `  Try it:       npx -y @modelcontextprotocol/inspector@2.12.0 --cli ${url} --transport http --method tools/list\n` +
        `  Health:       curl ${url.replace(/\/mcp$/, '/health')}\n` +
        (config.audit.enabled ? `  Audit log:    curl ${url.replace(/\/mcp$/, '/audit?limit=10')}  (stored in ${config.audit.dbPath})\n\n` : '\n'),
    );
  }
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  await shutdown.run('start-up failure', 1);
}
