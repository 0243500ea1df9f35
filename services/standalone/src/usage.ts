/** `--help` of the standalone process (`npm start`): usage, flags and the variables that matter most. */
export const STANDALONE_USAGE = `usage: node services/standalone/dist/main.js [--stdio] [--config PATH]

qsys-mcp in one process: the MCP gateway, the connector, the audit store and (without a Core
configured) the simulated Core, over an in-memory bus. No NATS needed.

flags:
  --stdio               serve MCP on stdin/stdout (logs go to stderr) instead of HTTP
  --config PATH         JSON config file (also --config=PATH; else MCP_CONFIG)
  -h, --help            print this help and exit

environment (each wins over its config file key):
  MCP_HTTP_HOST         address to bind (default 127.0.0.1)
  MCP_HTTP_PORT         HTTP port (default 8080; 0 = chosen by the OS)
  QSYS_HOST             a real Core's address; without it the simulated Core is started
  QSYS_PORT, QSYS_SECURE, QSYS_TRANSPORT, QSYS_USERNAME, QSYS_PASSWORD  the Core's connection
  SIM_DESIGN            design of the simulated Core
  MCP_AUTH_ENABLED      require credentials (default false); MCP_API_KEYS, MCP_JWT_SECRET
  MCP_RATE_LIMIT_RPM, MCP_RATE_LIMIT_BURST  per-client limit (default 60 per minute, burst 10)
  MCP_RATE_LIMIT_STDIO  rate limit the stdio user too (default false)
  AUDIT_DB_PATH         the audit log (default ~/.qsys-mcp/audit.sqlite)
  LOG_LEVEL             pino level (default info)
  LOG_FORMAT            json or text for start-up errors (default: text on a terminal)

Every setting: docs/configuration.md. Exit codes: 0 after --help or a clean stop, 1 on an
invalid configuration, an unknown flag, a port in use or a failed start.
`;
