import { SetControlsRequestSchema, type ControlState, type SetControlsReply } from '@qsys-mcp/contracts';
import type { EndpointHandler } from '@qsys-mcp/bus';
import { checkWrite, requireComponent, requireControl } from '../catalog-checks.js';
import { componentSet, type ComponentWrite } from '../core-api.js';
import { groupBy, nameCoreError, parseRequest, timeLeftMs, type HandlerDeps } from './context.js';

/**
 * `qsys.<core>.control.set`: one `Component.Set` (with `ResponseValues`) per component, so
 * several controls of one component cost one Core round trip. Components are written
 * concurrently; the reply lists the values the Core reported, in request order per component,
 * and `previous`: the states before the write as the live state knew them.
 */
export function createSetControlsHandler(deps: HandlerDeps): EndpointHandler {
  return async (req) => {
    const { controls } = parseRequest(SetControlsRequestSchema, req);
    const timeoutMs = timeLeftMs(req, deps.requestTimeoutMs);
    const { session } = deps;
    const catalog = session.catalog;
    // Every write is checked against the catalog before any reaches the Core: a bad one
    // refuses the whole request and changes nothing.
    if (catalog !== undefined) {
      controls.forEach((write, index) => {
        const meta = requireControl(requireComponent(catalog, write.component, { index }), write.control, { index });
        if (meta !== undefined) checkWrite(meta, write, { index });
      });
    }
    // The states before the write, for the audit trail: from the live state, so no extra Core
    // round trip; a control it does not know (state not live) is left out.
    const previous: ControlState[] = [];
    for (const w of controls) {
      const before = session.live.get(w.component, w.control);
      if (before !== undefined) previous.push({ ...before, component: w.component });
    }
    const byComponent = groupBy(controls, (c) => c.component);
    const results = await Promise.all(
      [...byComponent].map(async ([component, group]) => {
        const writes = group.map((w) => {
          const write: ComponentWrite = { control: w.control };
          if (w.value !== undefined) write.value = w.value;
          if (w.position !== undefined) write.position = w.position;
          if (w.ramp !== undefined) write.ramp = w.ramp;
          return write;
        });
        try {
          const states = await componentSet(session.caller, component, writes, timeoutMs);
          // Reads right after the write see what the Core reported, before the next poll.
          session.live.applyWrite(component, states);
          return states.map((s) => catalog?.enrich(component, s) ?? s);
        } catch (err) {
          throw nameCoreError(err, component, writes.map((w) => w.control), catalog?.components.get(component)?.controls);
        }
      }),
    );
    const reply: SetControlsReply = { controls: results.flat() };
    if (previous.length > 0) reply.previous = previous;
    return reply;
  };
}
