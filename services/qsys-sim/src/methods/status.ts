import { RpcError } from '../protocol.js';
import type { MethodTable } from './types.js';

/** `NoOp`, `Logon`, `StatusGet`: the methods answered before a Logon. */
export const statusMethods: MethodTable = {
  NoOp: () => true,

  Logon: (params, session, ctx) => {
    const creds = ctx.credentials;
    if (!creds) return true;
    const p = typeof params === 'object' && params !== null ? (params as { User?: unknown; Password?: unknown }) : {};
    const ok =
      (creds.username === undefined || p.User === creds.username) &&
      (creds.password === undefined || p.Password === creds.password || (typeof p.Password === 'number' && String(p.Password) === creds.password));
    session.loggedOn = ok;
    if (!ok) throw new RpcError('LOGON_FAILED', 'bad user or PIN');
    return true;
  },

  // Any params are accepted: docs send 0, QRWC sends none, others {}.
  StatusGet: (_params, _session, ctx) => ctx.engine,
};
