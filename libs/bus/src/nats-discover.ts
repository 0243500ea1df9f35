import type { ServiceIdentity, Svcm } from '@nats-io/services';
import type { DiscoveredService } from './types.js';

/**
 * Service discovery over NATS: one `$SRV.PING` and every answer that arrives within `timeoutMs`
 * (the `timer` strategy, so the call takes `timeoutMs` whether or not anything answers), keeping
 * the services whose name starts with `namePrefix`. No responders, or a failure of the request
 * after some answers, give the answers collected so far: discovery reports who answered.
 * @param isShut true when the bus is closed or draining; the caller then maps the failure to `BUS_CLOSED`.
 * @throws the underlying error when the request fails while the bus is shut.
 */
export async function discoverOnNats(svcm: Svcm, namePrefix: string, timeoutMs: number, isShut: () => boolean): Promise<DiscoveredService[]> {
  const found: DiscoveredService[] = [];
  try {
    const answers = await svcm.client({ strategy: 'timer', maxWait: timeoutMs }).ping();
    for await (const identity of answers) {
      const service = toDiscovered(identity);
      if (service !== undefined && service.name.startsWith(namePrefix)) found.push(service);
    }
  } catch (err) {
    if (isShut()) throw err;
  }
  return found;
}

function toDiscovered(identity: ServiceIdentity): DiscoveredService | undefined {
  if (typeof identity.name !== 'string' || typeof identity.id !== 'string') return undefined;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(identity.metadata ?? {})) if (typeof value === 'string') metadata[key] = value;
  return { name: identity.name, id: identity.id, version: String(identity.version ?? ''), metadata };
}
