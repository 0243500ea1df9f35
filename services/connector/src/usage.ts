/** `--help` of the connector: usage, flags and the variables that matter most (all: docs/configuration.md). */
export const CONNECTOR_USAGE = `usage: node services/connector/dist/main.js [--config PATH]

The connector: the only process that talks to a Q-SYS Core (QRC over WebSocket or TCP); serves
the core's operations on NATS (qsys.<core>.*).

flags:
  --config PATH         JSON config file whose qrwc and safety sections are read (also --config=PATH; else MCP_CONFIG)
  -h, --help            print this help and exit

environment (each wins over its qrwc key):
  QSYS_HOST             Core (or simulator) address; required without qrwc.host
  QSYS_PORT             Core port (default 443 with wss, 80 with ws, 1710 with tcp)
  QSYS_SECURE           wss (true, default) or ws (false)
  QSYS_TRANSPORT        websocket (default) or tcp
  QSYS_USERNAME, QSYS_PASSWORD, QSYS_API_KEY  Core credentials
  QSYS_CORE_ID          core id in the subjects (default main)
  NATS_URL              NATS server (default nats://127.0.0.1:4222); NATS_USER, NATS_PASSWORD
  CONNECTOR_LEASE       leader lease in NATS KV for standby replicas (default true)
  HEALTH_HOST, HEALTH_PORT  health and metrics server (default 127.0.0.1:9091; 0 = chosen by the OS)
  SAFETY_PROTECTED_CONTROLS  protected control patterns, comma-separated (docs/safety.md)
  SAFETY_LIMITS         safety limits: pattern=min..max entries separated by ; (Main Gain/gain=-60..-6),
                        or a JSON array of {"match","min","max"}; replaces safety.limits
  SAFETY_MAX_STEP       max steps: pattern=step@minRampSeconds entries separated by ; (*/gain=6@2),
                        or a JSON array of {"match","step","minRampSeconds"}; replaces safety.maxStep
  LOG_LEVEL             pino level (default info)
  LOG_FORMAT            json or text for start-up errors (default: text on a terminal)

At start the connector waits for NATS (not ready meanwhile), logging every few seconds.
SIGHUP reloads the safety rules (the file's safety section and the SAFETY_* variables) without
a restart; invalid rules are logged with every problem and the rules in force are kept.
Every setting: docs/configuration.md. Exit codes: 0 after --help or a clean stop, 2 on an
invalid configuration or an unknown flag, 1 on a port in use or a failed start.
`;
