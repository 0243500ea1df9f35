import { AppError } from '@qsys-mcp/contracts';
import { assertSubscribeSubject } from './subject.js';
import type { ServiceSpec } from './types.js';

// The NATS services framework refuses names outside [-\w]+ and versions that are not
// semver; both adapters check the same rules so a spec that runs in memory runs on NATS.
const NAME = /^[-\w]+$/u;
const SEMVER = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/u;
const QUEUE = /^[^\s*>]+$/u;

function invalidSpec(reason: string, details: Record<string, unknown>): AppError {
  return new AppError('INVALID_PARAMS', `Invalid service spec: ${reason}`, { details: { reason, ...details } });
}

/**
 * Checks a service spec before it is served.
 * @throws AppError `INVALID_PARAMS` naming the first problem: a name or endpoint name outside
 *   `[-A-Za-z0-9_]+`, a version that is not semver, an empty or wildcard queue group, a
 *   malformed endpoint subject, no endpoints, or two endpoints with the same name.
 */
export function assertServiceSpec(spec: ServiceSpec): void {
  if (!NAME.test(spec.name)) throw invalidSpec('service name must match [-A-Za-z0-9_]+', { name: spec.name });
  if (!SEMVER.test(spec.version)) throw invalidSpec('version must be semver', { version: spec.version });
  if (!QUEUE.test(spec.queue)) throw invalidSpec('queue group must be non-empty, without whitespace or wildcards', { queue: spec.queue });
  if (spec.endpoints.length === 0) throw invalidSpec('a service needs at least one endpoint', { name: spec.name });
  const seen = new Set<string>();
  for (const endpoint of spec.endpoints) {
    if (!NAME.test(endpoint.name)) throw invalidSpec('endpoint name must match [-A-Za-z0-9_]+', { endpoint: endpoint.name });
    if (seen.has(endpoint.name)) throw invalidSpec('duplicate endpoint name', { endpoint: endpoint.name });
    seen.add(endpoint.name);
    assertSubscribeSubject(endpoint.subject);
  }
}
