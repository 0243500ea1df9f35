import { JSON_RPC_CODES, parseResourceUri } from '@qsys-mcp/contracts';

/**
 * The gateway's own checks of a `subscriptions/listen` request, before the SDK opens its stream
 * (the SDK checks only the filter's shape): `params.notifications.resourceSubscriptions` may name
 * at most `maxUris` URIs, each a valid `qsys://` resource URI (`parseResourceUri`). A refused
 * listen never reaches the SDK, so nothing is allocated for it.
 */

/** The field the checks are about, as the errors name it. */
export const LISTEN_URIS_FIELD = 'params.notifications.resourceSubscriptions';

/** Invalid URIs listed in one refusal, at most. */
const MAX_LISTED = 20;

/** A refused listen: the request id and the JSON-RPC error to answer it with. */
export interface ListenRefusal {
  id: string | number | null;
  error: { code: number; message: string; data: Record<string, unknown> };
}

/**
 * The `resourceSubscriptions` of a `subscriptions/listen` request body (one message), as sent;
 * undefined for any other message or when the field is not a list.
 */
export function listenUrisOf(body: unknown): unknown[] | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const msg = body as { method?: unknown; params?: unknown };
  if (msg.method !== 'subscriptions/listen') return undefined;
  const uris = (msg.params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)?.notifications?.resourceSubscriptions;
  return Array.isArray(uris) ? uris : undefined;
}

/**
 * Checks the `subscriptions/listen` request of a POST body (one message; a batch holds none,
 * batches exist only in 2025-03-26). Anything else passes.
 * @returns the refusal (-32602 naming the field, with the count and limit or the invalid URIs
 *   and why each is invalid), or undefined when the body may go on to the SDK.
 */
export function checkListenRequest(body: unknown, maxUris: number): ListenRefusal | undefined {
  const uris = listenUrisOf(body);
  // Not a listen, or no list of URIs (the SDK's own schema check answers that).
  if (uris === undefined) return undefined;
  const msgId = (body as { id?: unknown }).id;
  const id = typeof msgId === 'string' || typeof msgId === 'number' ? msgId : null;
  if (uris.length > maxUris) {
    return {
      id,
      error: {
        code: JSON_RPC_CODES.INVALID_PARAMS,
        message: `Invalid params: ${LISTEN_URIS_FIELD} names ${uris.length} URIs; one listen may name at most ${maxUris} (open several listens, or subscribe to fewer components)`,
        data: { code: 'INVALID_PARAMS', field: LISTEN_URIS_FIELD, count: uris.length, limit: maxUris },
      },
    };
  }
  const invalid: Array<{ index: number; uri: unknown; problem: string; message: string; suggestions: string[] }> = [];
  uris.forEach((uri, index) => {
    if (typeof uri !== 'string') {
      invalid.push({ index, uri, problem: 'type', message: `${LISTEN_URIS_FIELD}[${index}] is not a string`, suggestions: [] });
      return;
    }
    const parsed = parseResourceUri(uri);
    if (!parsed.ok) invalid.push({ index, uri, ...parsed.problem });
  });
  if (invalid.length === 0) return undefined;
  const listed = invalid.slice(0, MAX_LISTED);
  const names = listed.map((i) => (typeof i.uri === 'string' ? `'${i.uri.slice(0, 200)}'` : `[${i.index}]`)).join(', ');
  const more = invalid.length > listed.length ? ` and ${invalid.length - listed.length} more` : '';
  return {
    id,
    error: {
      code: JSON_RPC_CODES.INVALID_PARAMS,
      message: `Invalid params: ${LISTEN_URIS_FIELD} holds URIs that name no resource: ${names}${more} (${listed[0]?.message ?? ''})`,
      data: { code: 'INVALID_PARAMS', field: LISTEN_URIS_FIELD, invalid: listed, invalidCount: invalid.length },
    },
  };
}
