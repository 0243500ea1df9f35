/** `--help` of the simulator: usage and its variables (docs/configuration.md, services/qsys-sim/README.md). */
export const SIM_USAGE = `usage: node services/qsys-sim/dist/main.js

A Q-SYS Core simulator speaking QRC over WebSocket (/qrc-public-api/v0) and TCP (NUL-framed),
with a 15-component demo design. Configured by the environment only.

flags:
  -h, --help            print this help and exit

environment:
  SIM_HOST              interface for both transports (default 127.0.0.1)
  SIM_WS_PORT           WebSocket port (default 8081; 0 = chosen by the OS)
  SIM_TCP_PORT          QRC TCP port (default 1710; 0 = chosen by the OS; off = no TCP)
  SIM_ADMIN_PORT        admin HTTP interface for fault injection (default off; 0 = chosen by the OS)
  SIM_DESIGN            design file (default services/qsys-sim/designs/default.json)
  SIM_USERNAME, SIM_PASSWORD  require a Logon
  SIM_PROFILE           Core profile, e.g. legacy-firmware, tcp-mock, minimal, api-key (default full)
  SIM_PAIR              a redundant pair (default false); SIM_BACKUP_WS_PORT, SIM_BACKUP_TCP_PORT
  LOG_LEVEL             pino level (default info)
  LOG_FORMAT            json or text for start-up errors (default: text on a terminal)

Drive the faults with node services/qsys-sim/dist/admin-cli.js --help.
Exit codes: 0 after --help or a clean stop, 2 on an unknown flag, 1 on an invalid
configuration, a port in use or a failed start.
`;
