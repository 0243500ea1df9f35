export { startStandalone } from './standalone.js';
export type { Standalone, StandaloneOptions } from './standalone.js';
