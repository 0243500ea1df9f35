import type { CoreId } from './names.js';

/** Operations a connector serves, one NATS subject each: `qsys.<coreId>.<operation>`. */
export const CORE_OPERATIONS = {
  status: 'status',
  listComponents: 'component.list',
  getComponent: 'component.get',
  getControls: 'control.get',
  setControls: 'control.set',
  getNamedControls: 'named.get',
  setNamedControl: 'named.set',
  resetBreaker: 'breaker.reset',
  triggerControl: 'control.trigger',
  listSnapshots: 'snapshot.list',
  loadSnapshot: 'snapshot.load',
  saveSnapshot: 'snapshot.save',
} as const;
export type CoreOperation = (typeof CORE_OPERATIONS)[keyof typeof CORE_OPERATIONS];

/** Kinds of events a connector publishes on `qsys.<coreId>.evt.<kind>`. */
export const CORE_EVENT_KINDS = {
  controls: 'controls',
  engineStatus: 'engine',
  connection: 'connection',
  breaker: 'breaker',
} as const;
export type CoreEventKind = (typeof CORE_EVENT_KINDS)[keyof typeof CORE_EVENT_KINDS];

/** Root of every Core subject. */
export const QSYS_SUBJECT_ROOT = 'qsys';

/** `qsys.<coreId>.<operation>`: request-reply to the connector that owns the core. */
export function coreSubject(coreId: CoreId, operation: CoreOperation): string {
  return `${QSYS_SUBJECT_ROOT}.${coreId}.${operation}`;
}

/** `qsys.<coreId>.evt.<kind>`: events published by the connector. */
export function coreEventSubject(coreId: CoreId, kind: CoreEventKind): string {
  return `${QSYS_SUBJECT_ROOT}.${coreId}.evt.${kind}`;
}

/** Name under which a core's connector registers with the NATS services framework. */
export function connectorServiceName(coreId: CoreId): string {
  return `qsys-connector-${coreId}`;
}

/** Queue group of a core's connector endpoints (standby replicas share it). */
export function connectorQueueGroup(coreId: CoreId): string {
  return `qsys.${coreId}`;
}

/**
 * Headers carried on every request between processes. Errors use the NATS services
 * framework's own `Nats-Service-Error-Code` / `Nats-Service-Error` headers.
 */
export const HEADERS = {
  requestId: 'Qsys-Request-Id',
  clientId: 'Qsys-Client-Id',
  /** Absolute deadline, epoch milliseconds. */
  deadline: 'Qsys-Deadline',
  traceparent: 'traceparent',
  /**
   * The caller's scopes, space-separated (`qsys:read qsys:write`), set by the gateway from the
   * authenticated identity. The connector's safety envelope reads it; a request without it (a
   * NATS integration) has no scope, so it is not `qsys:admin`.
   */
  scopes: 'Qsys-Scopes',
  serviceErrorCode: 'Nats-Service-Error-Code',
  serviceError: 'Nats-Service-Error',
} as const;
