/** `--help` of the audit service: usage and the variables that matter most (all: docs/configuration.md). */
export const AUDIT_USAGE = `usage: node services/audit/dist/main.js

The audit service: stores the audit events of the JetStream stream AUDIT in SQLite, each row
chained to the one before, and answers audit.query. Configured by the environment only.

flags:
  -h, --help            print this help and exit

environment:
  NATS_URL              NATS server(s), comma-separated (default nats://127.0.0.1:4222)
  NATS_USER, NATS_PASSWORD  NATS credentials
  AUDIT_DB_PATH         the SQLite file (default data/audit.sqlite); one service per file
  AUDIT_RETENTION_DAYS  rows older than this are pruned (default 90; 0 = no age limit)
  AUDIT_RETENTION_MAX_ROWS  most rows kept (default 10000000; 0 = no limit)
  AUDIT_CONSUMER        durable consumer name (default audit)
  HEALTH_HOST, HEALTH_PORT  health and metrics server (default 127.0.0.1:9092; 0 = chosen by the OS)
  LOG_LEVEL             pino level (default info)
  LOG_FORMAT            json or text for start-up errors (default: text on a terminal)

At start the service waits for NATS (not ready meanwhile), logging every few seconds.
Every setting: docs/configuration.md. Exit codes: 0 after --help or a clean stop, 2 on an
invalid configuration or an unknown flag, 1 on a port in use or a failed start.
`;
