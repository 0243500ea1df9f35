import { AppError, DEFAULT_ROOM_PAGE_LIMIT, type GetRoomOutput, type RoomComponent } from '@qsys-mcp/contracts';
import type { CallContext, CallCore } from '../core-client.js';
import type { ToolContext, ToolHandler, ToolHandlers } from './types.js';

/** Dependencies of `qsys.get_room`. */
export interface RoomToolDeps {
  callCore: CallCore;
  /** Core used when the arguments name none. */
  defaultCore: string;
}

/** Most `component.get` requests of one page in flight at once (a page has at most 100). */
export const ROOM_GET_CONCURRENCY = 10;

/** What a cursor of `qsys.get_room` carries: where the next page starts, and the filters it belongs to. */
interface RoomCursor {
  /** Index of the next page's first component in the filtered list. */
  o: number;
  t?: string;
  n?: string;
}

function encodeCursor(cursor: RoomCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function invalidCursor(why: string): AppError {
  return new AppError('INVALID_PARAMS', `Invalid cursor: ${why}; call qsys.get_room without a cursor for the first page`, {
    details: { field: 'cursor' },
  });
}

/**
 * The offset a cursor points at.
 * @throws AppError `INVALID_PARAMS` (details `{ field: 'cursor' }`) for a cursor this tool did not
 *   make, or one made with other `type` / `name` filters.
 */
function decodeCursor(text: string, type: string | undefined, name: string | undefined): number {
  let cursor: Partial<RoomCursor>;
  try {
    cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<RoomCursor>;
  } catch {
    throw invalidCursor('not a cursor of qsys.get_room');
  }
  if (cursor === null || typeof cursor !== 'object' || !Number.isSafeInteger(cursor.o) || (cursor.o ?? -1) < 0) {
    throw invalidCursor('not a cursor of qsys.get_room');
  }
  if (cursor.t !== type || cursor.n !== name) throw invalidCursor('it belongs to other type or name filters');
  return cursor.o as number;
}

/** Runs `task` over `items` with at most `concurrency` at once; results in the order of `items`. */
async function mapBounded<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/**
 * `qsys.get_room`: one `component.list` (the connector's catalog, filtered by `type` and `name`),
 * then one `component.get` per component of the page (at most {@link ROOM_GET_CONCURRENCY} at
 * once), which the connector answers from its live state. Pages are offsets into the filtered
 * list: a design reloaded between two pages can shift them.
 *
 * Fails with the first failure of those requests (`CORE_UNAVAILABLE`, `CIRCUIT_OPEN`,
 * `QSYS_UNKNOWN_COMPONENT` when a component left the design between the two steps), or
 * `INVALID_PARAMS` for a cursor that is not this tool's or belongs to other filters.
 */
export function createRoomToolHandlers(deps: RoomToolDeps): Pick<ToolHandlers, 'qsys.get_room'> {
  const { callCore, defaultCore } = deps;

  const getRoom: ToolHandler<'qsys.get_room'> = async (a, ctx: ToolContext) => {
    const call: CallContext = { ...ctx, core: a.core ?? defaultCore };
    const offset = a.cursor === undefined ? 0 : decodeCursor(a.cursor, a.type, a.name);
    const limit = a.limit ?? DEFAULT_ROOM_PAGE_LIMIT;
    const request: { filter?: string; type?: string } = {};
    if (a.name !== undefined) request.filter = a.name;
    if (a.type !== undefined) request.type = a.type;
    const { components } = await callCore('component.list', request, call);
    const page = components.slice(offset, offset + limit);
    const withControls = await mapBounded(page, ROOM_GET_CONCURRENCY, async (summary): Promise<RoomComponent> => {
      const reply = await callCore('component.get', { component: summary.name }, call);
      return { name: summary.name, type: summary.type, controls: reply.controls };
    });
    const out: GetRoomOutput = { core: call.core, components: withControls, total: components.length };
    if (offset + limit < components.length) {
      const next: RoomCursor = { o: offset + limit };
      if (a.type !== undefined) next.t = a.type;
      if (a.name !== undefined) next.n = a.name;
      out.next_cursor = encodeCursor(next);
    }
    return out;
  };

  return { 'qsys.get_room': getRoom };
}
