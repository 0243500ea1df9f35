import { GetComponentRequestSchema, type ControlState, type GetComponentReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { requireComponent, requireControl } from '../catalog-checks.js';
import { Budget } from '../budget.js';
import { explainInvalidParams, readComponentValues } from '../component-values.js';
import { getComponentControls } from '../core-api.js';
import { nameCoreError, parseRequest, unknownControls, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.component.get`: every control of a component with its metadata
 * (`Component.GetControls`), or only the named ones (`Component.Get`, enriched from the catalog;
 * `Component.GetControls` filtered from a Core without `Component.Get`).
 * Names are checked against the catalog first (unknown ones never reach the Core). While the
 * live state is live, the answer comes from it with no Core round trip.
 */
export function createGetComponentHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { component, controls } = parseRequest(GetComponentRequestSchema, req);
    const { session } = deps;
    const catalog = session.catalog;
    if (catalog !== undefined) {
      const known = requireComponent(catalog, component);
      controls?.forEach((control, index) => requireControl(known, control, { index }));
    }
    const fromLive = readLive(deps, component, controls);
    if (fromLive !== undefined) {
      deps.metrics.cacheHits.inc();
      const reply: GetComponentReply = { name: component, type: catalog?.components.get(component)?.type ?? '', controls: fromLive };
      return reply;
    }
    deps.metrics.cacheMisses.inc();
    const budget = Budget.of(req, deps.requestTimeoutMs);
    try {
      const states = await session.operate(async (core) => {
        if (controls === undefined) return getComponentControls(core, component, budget.next('Component.GetControls'));
        const read = await readComponentValues(core, component, controls, budget);
        if (read.missing.length > 0) throw unknownControls(component, read.missing);
        return read.states.map((s) => catalog?.enrich(component, s) ?? s);
      });
      const reply: GetComponentReply = { name: component, type: catalog?.components.get(component)?.type ?? '', controls: states };
      return reply;
    } catch (err) {
      const explained = await explainInvalidParams(session.core, err, component, controls ?? [], budget);
      throw nameCoreError(explained, component, controls, catalog?.components.get(component)?.controls);
    }
  };
}

/** The component's controls from the live state (catalog order), or undefined when not live. */
function readLive(deps: HandlerDeps, component: string, controls: readonly string[] | undefined): ControlState[] | undefined {
  const { live, catalog } = deps.session;
  if (!live.live || catalog === undefined) return undefined;
  const names = controls ?? [...(catalog.components.get(component)?.controls.keys() ?? [])];
  const out: ControlState[] = [];
  for (const name of names) {
    const state = live.get(component, name);
    if (state === undefined) return undefined;
    out.push(state);
  }
  return out;
}
