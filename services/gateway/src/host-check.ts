import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateHostHeader } from '@modelcontextprotocol/server';
import { JSON_RPC_CODES } from '@qsys-mcp/contracts';
import { sendJson } from './http-json.js';

/**
 * `Host` as RFC 9110 §7.2 allows it: a name or IPv4 address, or a bracketed IPv6 address, then an
 * optional port. No user info (`user@host`), path, query, spaces or empty value: the MCP SDK's
 * own check parses the header as a URL and lets `user@localhost` and `localhost/x` through, and
 * the first of those then fails inside the SDK (HTTP 500).
 */
const WELL_FORMED_HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** Longest part of a refused `Host` value repeated in the answer. */
const ECHO_CHARS = 100;

/** True when `value` is a well-formed `Host` header value with a port, if any, of at most 65535. */
export function isWellFormedHost(value: string | undefined): boolean {
  if (value === undefined) return false;
  const match = WELL_FORMED_HOST.exec(value);
  if (match === null) return false;
  return match[1] === undefined || Number(match[1]) <= 65_535;
}

/**
 * A check of the `Host` header for DNS-rebinding protection, for the routes that serve data
 * (`/mcp`, `/auth/token`, `/audit`). Returns whether the request may go on; when not, it has
 * answered 403 with a JSON-RPC error (-32600, the code of the gateway's other transport
 * refusals). A missing, empty or malformed `Host` is refused even with `*`; otherwise the
 * hostname (port ignored, case-insensitive, `[::1]` for IPv6) must be in `allowedHosts`, unless
 * that list holds `*`.
 */
export function createHostCheck(allowedHosts: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const any = allowedHosts.includes('*');
  const allowed = allowedHosts.map((h) => h.toLowerCase());
  return (req, res) => {
    const host = req.headers.host;
    let message: string | undefined;
    if (host === undefined || host.trim() === '') {
      message = 'Missing Host header';
    } else if (!isWellFormedHost(host)) {
      message = `Invalid Host header: ${JSON.stringify(host.slice(0, ECHO_CHARS))}`;
    } else if (!any) {
      const result = validateHostHeader(host, allowed);
      if (!result.ok) message = result.message;
    }
    if (message === undefined) return true;
    sendJson(res, 403, { jsonrpc: '2.0', error: { code: JSON_RPC_CODES.INVALID_REQUEST, message: `Forbidden: ${message}` }, id: null });
    return false;
  };
}
