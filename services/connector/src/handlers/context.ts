import { AppError } from '@qsys-mcp/contracts';
import type { BusRequest } from '@qsys-mcp/bus';
import type { Logger } from '@qsys-mcp/observability';
import type { z } from 'zod';
import type { CoreSession } from '../core-session.js';
import type { ConnectorMetrics } from '../metrics.js';
import type { Safety } from '../safety.js';

/** What every connector handler depends on. */
export interface HandlerDeps {
  session: CoreSession;
  logger: Logger;
  /** Upper bound of one Core request, ms; the caller's deadline is split across the requests of one call (`Budget`). */
  requestTimeoutMs: number;
  metrics: ConnectorMetrics;
  /** The safety envelope, checked with the catalog checks before any write reaches the Core. @default no rules */
  safety?: Safety;
}

/**
 * Parses a request payload with its contract schema.
 * @throws AppError INVALID_PARAMS with the zod issues (path, message).
 */
export function parseRequest<S extends z.ZodType>(schema: S, req: BusRequest): z.infer<S> {
  const parsed = schema.safeParse(req.data ?? {});
  if (!parsed.success) {
    throw new AppError('INVALID_PARAMS', `Invalid request on ${req.subject}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return parsed.data;
}

/**
 * Adds names to the Core's unknown-component and unknown-control errors (the Core's own
 * texts name neither). With the component's known controls from the catalog, the unknown
 * ones are named exactly.
 */
export function nameCoreError(err: unknown, component: string, controls?: readonly string[], known?: ReadonlyMap<string, unknown>): unknown {
  if (!(err instanceof AppError)) return err;
  if (err.code === 'QSYS_UNKNOWN_COMPONENT') {
    return new AppError('QSYS_UNKNOWN_COMPONENT', `Unknown component '${component}'`, {
      details: { ...err.details, component },
      cause: err,
    });
  }
  if (err.code === 'QSYS_UNKNOWN_CONTROL') {
    const unknown = controls?.filter((c) => known === undefined || !known.has(c));
    const details: Record<string, unknown> = { ...err.details, component };
    if (unknown !== undefined && unknown.length > 0) details.controls = unknown;
    const list = unknown === undefined || unknown.length === 0 ? '' : ` ${unknown.map((c) => `'${c}'`).join(', ')}`;
    return new AppError('QSYS_UNKNOWN_CONTROL', `Unknown control${list} of component '${component}'`, { details, cause: err });
  }
  return err;
}

/** `QSYS_UNKNOWN_CONTROL` for controls the Core does not know (it answered without them). */
export function unknownControls(component: string, controls: readonly string[]): AppError {
  return new AppError('QSYS_UNKNOWN_CONTROL', `Unknown control ${controls.map((c) => `'${c}'`).join(', ')} of component '${component}'`, {
    details: { component, controls },
  });
}

/** Groups items by a key, keeping first-seen order of keys and items. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [item]);
    else g.push(item);
  }
  return groups;
}
