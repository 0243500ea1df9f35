import { AppError, DEFAULT_CHANGES_LIMIT } from '@qsys-mcp/contracts';
import type { ToolName, WatchInput } from '@qsys-mcp/contracts';
import type { ChangeFeed } from '../change-feed.js';
import type { CallContext, CallCore } from '../core-client.js';
import { argumentPath, isInvalidInput } from '../invalid-params.js';
import type { ToolContext, ToolHandler, ToolHandlers } from './types.js';

/** Dependencies of the change feed's tools. */
export interface ChangeFeedToolDeps {
  feed: ChangeFeed;
  callCore: CallCore;
  /** Core used when the arguments name none. */
  defaultCore: string;
}

type FeedToolName = Extract<ToolName, 'qsys.watch' | 'qsys.get_changes'>;

/** The same error, about the tool argument at `path` (the -32602 answer's `issues[0].path`). */
function about(err: unknown, path: string): unknown {
  if (!(err instanceof AppError) || !isInvalidInput(err)) return err;
  return new AppError(err.code, err.message, { details: { ...err.details, field: path }, cause: err });
}

/**
 * Checks the names of a watch against the connector's catalog, as the other tools do: the
 * components through `component.list` (answered from the catalog), an unknown one through
 * `component.get` for the connector's error with the closest names; the controls through one
 * `control.get`. Unknown names answer the connector's `QSYS_UNKNOWN_COMPONENT` /
 * `QSYS_UNKNOWN_CONTROL`, a JSON-RPC -32602 naming the argument (`components[1]`,
 * `controls[0].control_name`). Without names, `component.list` still checks that the core is served.
 */
async function checkNames(a: WatchInput, callCore: CallCore, ctx: CallContext): Promise<void> {
  const { components } = await callCore('component.list', {}, ctx);
  const known = new Set(components.map((c) => c.name));
  const unknown = (a.components ?? []).findIndex((name) => !known.has(name));
  if (unknown >= 0) {
    const name = a.components?.[unknown] ?? '';
    try {
      // The connector checks the name in its catalog before the Core, with the closest names.
      await callCore('component.get', { component: name }, ctx);
    } catch (err) {
      throw about(err, `components[${unknown}]`);
    }
    // The catalog knows it after all (discovered in between): nothing to refuse.
  }
  if (a.controls !== undefined) {
    try {
      await callCore('control.get', { controls: a.controls.map((c) => ({ component: c.component_name, control: c.control_name })) }, ctx);
    } catch (err) {
      const details = err instanceof AppError ? (err.details ?? {}) : {};
      throw about(err, argumentPath('qsys.get_controls', details));
    }
  }
}

/**
 * `qsys.watch` and `qsys.get_changes` (scope `qsys:read`): a feed of control changes kept in
 * NATS (`change-feed.ts`), so any replica answers a cursor.
 */
export function createChangeFeedToolHandlers(deps: ChangeFeedToolDeps): Pick<ToolHandlers, FeedToolName> {
  const { feed, callCore, defaultCore } = deps;

  const watch: ToolHandler<'qsys.watch'> = async (a, ctx: ToolContext) => {
    const core = a.core ?? defaultCore;
    await checkNames(a, callCore, { ...ctx, core });
    return feed.watch({
      core,
      ...(a.components === undefined ? {} : { components: [...new Set(a.components)] }),
      ...(a.controls === undefined ? {} : { controls: a.controls.map((c) => [c.component_name, c.control_name] as const) }),
    });
  };

  const getChanges: ToolHandler<'qsys.get_changes'> = (a, ctx) =>
    feed.read(a.cursor, {
      limit: a.limit ?? DEFAULT_CHANGES_LIMIT,
      waitMs: a.wait_ms ?? 0,
      deadline: ctx.deadline,
      ...(a.core === undefined ? {} : { core: a.core }),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });

  return { 'qsys.watch': watch, 'qsys.get_changes': getChanges };
}
