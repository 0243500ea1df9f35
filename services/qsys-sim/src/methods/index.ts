import { changeGroupMethods } from './change-group.js';
import { componentMethods } from './component.js';
import { controlMethods } from './control.js';
import { mixerMethods } from './mixer.js';
import { snapshotMethods } from './snapshot.js';
import { statusMethods } from './status.js';
import type { MethodHandler } from './types.js';

/** Every QRC method the simulator answers, by exact name. */
export const METHODS: ReadonlyMap<string, MethodHandler> = new Map(
  Object.entries({
    ...statusMethods,
    ...componentMethods,
    ...controlMethods,
    ...changeGroupMethods,
    ...snapshotMethods,
    ...mixerMethods,
  }),
);

/** Methods answered without a Logon. */
export const OPEN_METHODS: ReadonlySet<string> = new Set(['NoOp', 'Logon', 'StatusGet']);

/** Methods a Standby Core still answers (others get -32604). */
export const STANDBY_METHODS: ReadonlySet<string> = new Set(['NoOp', 'Logon', 'StatusGet']);
