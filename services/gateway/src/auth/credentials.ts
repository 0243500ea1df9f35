/** A credential as presented by the caller, before it is checked. */
export type Credential =
  /** `Authorization: ApiKey <key>` or `X-API-Key: <key>`. */
  | { kind: 'api-key'; secret: string }
  /** `Authorization: Bearer <token>`. */
  | { kind: 'bearer'; secret: string }
  /** An `Authorization` header with another scheme or no value: presented, but never valid. */
  | { kind: 'unsupported' };

type HeaderValue = string | readonly string[] | undefined;

function first(value: HeaderValue): string | undefined {
  const v = typeof value === 'string' ? value : value?.[0];
  return v === undefined ? undefined : v.trim();
}

// `<scheme> <value>`: the scheme is a token, the value the rest of the header.
const AUTHORIZATION = /^([A-Za-z][A-Za-z0-9_-]*)\s+(\S.*)$/;

/**
 * The credential of an HTTP request, from `Authorization: ApiKey <key>`,
 * `Authorization: Bearer <token>` or `X-API-Key: <key>`; `undefined` when none is presented.
 * `Authorization` wins when both headers are sent. An `Authorization` header with another scheme
 * (`Basic`, …) or without a value is a presented credential of kind `unsupported`, refused like a
 * wrong key. The secret is returned as sent and must never be logged.
 */
export function credentialFromHeaders(headers: Readonly<Record<string, HeaderValue>>): Credential | undefined {
  const authorization = first(headers.authorization);
  if (authorization !== undefined && authorization !== '') {
    const match = AUTHORIZATION.exec(authorization);
    const scheme = match?.[1]?.toLowerCase();
    const secret = match?.[2]?.trim();
    if (secret === undefined || secret === '') return { kind: 'unsupported' };
    if (scheme === 'apikey') return { kind: 'api-key', secret };
    if (scheme === 'bearer') return { kind: 'bearer', secret };
    return { kind: 'unsupported' };
  }
  const apiKey = first(headers['x-api-key']);
  if (apiKey !== undefined && apiKey !== '') return { kind: 'api-key', secret: apiKey };
  return undefined;
}
