/** `--help` of the gateway: usage, flags and the variables that matter most (all: docs/configuration.md). */
export const GATEWAY_USAGE = `usage: node services/gateway/dist/main.js [--stdio] [--config PATH]

The MCP gateway: serves MCP over Streamable HTTP (or stdio) and sends tool calls over NATS to
the connector of each Q-SYS Core.

flags:
  --stdio               serve MCP on stdin/stdout (logs go to stderr) instead of HTTP
  --config PATH         JSON config file (also --config=PATH; else MCP_CONFIG)
  -h, --help            print this help and exit

environment (each wins over its config file key):
  NATS_URL              NATS server(s), comma-separated (default nats://127.0.0.1:4222)
  NATS_USER, NATS_PASSWORD  NATS credentials
  MCP_HTTP_HOST         address to bind (default 127.0.0.1)
  MCP_HTTP_PORT         HTTP port (default 8080; 0 = chosen by the OS)
  QSYS_CORE_ID          core used when a call names none (default main)
  MCP_AUTH_ENABLED      require credentials (default false); MCP_API_KEYS, MCP_JWT_SECRET
  MCP_OAUTH_ISSUER      trusted OAuth 2.1 issuer(s), comma-separated: accept their access tokens
                        (with MCP_PUBLIC_URL, MCP_OAUTH_AUDIENCE; docs/security.md)
  MCP_RATE_LIMIT_RPM, MCP_RATE_LIMIT_BURST  per-client limit (default 60 per minute, burst 10)
  MCP_RATE_LIMIT_STDIO  rate limit the stdio user too (default false)
  MCP_MAX_JSON_DEPTH    deepest JSON nesting accepted in a request body (default 64)
  LOG_LEVEL             fatal, error, warn, info, debug, trace, silent (default info)
  LOG_FORMAT            json or text for start-up errors (default: text on a terminal)

At start the gateway waits for NATS, logging every few seconds what it waits for.
Every setting: docs/configuration.md. Exit codes: 0 after --help or a clean stop, 1 on an
invalid configuration, an unknown flag, a port in use or a failed start.
`;
