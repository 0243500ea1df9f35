import { GetControlsRequestSchema, type ControlState, type ControlsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { requireComponent, requireControl } from '../catalog-checks.js';
import { Budget } from '../budget.js';
import { explainInvalidParams, readComponentValues } from '../component-values.js';
import { groupBy, nameCoreError, parseRequest, unknownControls, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.control.get`: controls of any components; one `Component.Get` (or, from a Core
 * without it, `Component.GetControls`) per component, sent concurrently, unless every control
 * is in the live state. Replies keep the request's order.
 */
export function createGetControlsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { controls } = parseRequest(GetControlsRequestSchema, req);
    const { session } = deps;
    const catalog = session.catalog;
    if (catalog !== undefined) {
      controls.forEach((ref, index) => requireControl(requireComponent(catalog, ref.component, { index }), ref.control, { index }));
    }
    const fromLive = controls.map((c) => session.live.get(c.component, c.control));
    if (fromLive.every((s): s is ControlState => s !== undefined)) {
      deps.metrics.cacheHits.inc();
      const reply: ControlsReply = { controls: fromLive };
      return reply;
    }
    deps.metrics.cacheMisses.inc();
    const budget = Budget.of(req, deps.requestTimeoutMs);
    const byComponent = groupBy(controls, (c) => c.component);
    const read = new Map<string, ControlState>();
    await session.operate((core) =>
      Promise.all(
        [...byComponent].map(async ([component, refs]) => {
          const names = refs.map((r) => r.control);
          try {
            const values = await readComponentValues(core, component, names, budget);
            if (values.missing.length > 0) throw unknownControls(component, values.missing);
            for (const s of values.states) read.set(`${component}\u0000${s.name}`, catalog?.enrich(component, s) ?? s);
          } catch (err) {
            const explained = await explainInvalidParams(core, err, component, names, budget);
            throw nameCoreError(explained, component, names, catalog?.components.get(component)?.controls);
          }
        }),
      ),
    );
    const reply: ControlsReply = {
      controls: controls.flatMap((c) => {
        const s = read.get(`${c.component}\u0000${c.control}`);
        return s === undefined ? [] : [s];
      }),
    };
    return reply;
  };
}
