export { createLogger, createSilentLogger, REDACT_PATHS } from './logger.js';
export type { Logger, LoggerFactoryOptions } from './logger.js';
export { createShutdown } from './shutdown.js';
export type { Shutdown, ShutdownStep, ShutdownOptions } from './shutdown.js';
