import { createLogger, createShutdown } from '@qsys-mcp/observability';
import { startStandalone } from './standalone.js';

// Wiring only: the gateway, connector and (without QSYS_HOST) the simulated Core in one
// process over the in-memory bus. `--stdio` serves MCP on stdin/stdout; logs then go to stderr.
const stdio = process.argv.slice(2).includes('--stdio') || process.env.MCP_TRANSPORT === 'stdio';
const logger = createLogger({ name: 'standalone', level: process.env.LOG_LEVEL ?? 'info', stream: stdio ? 'stderr' : 'stdout' });
const shutdown = createShutdown({ logger });

try {
  const stack = await startStandalone({ env: process.env, stdio, logger });
  shutdown.add({ name: 'standalone', close: () => stack.close() });
  if (stdio) {
    process.stdin.once('end', () => void shutdown.run('stdin closed'));
    logger.info({ transport: 'stdio', simulated: stack.simulator !== undefined }, 'ready');
  } else if (stack.http !== undefined) {
    const { url, port } = stack.http;
    logger.info({ transport: 'http', httpPort: port, url, simulated: stack.simulator !== undefined }, 'ready');
    process.stderr.write(
      `\nQ-SYS MCP server ready${stack.simulator ? ' (simulated Core)' : ''}\n` +
        `  MCP endpoint: ${url}\n` +
        `  Try it:       npx -y @modelcontextprotocol/inspector@2.12.0 --cli ${url} --transport http --method tools/list\n` +
        `  Health:       curl ${url.replace(/\/mcp$/, '/health')}\n\n`,
    );
  }
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  await shutdown.run('start-up failure', 1);
}
