import { Client, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

/**
 * HTTP-level helpers for gateway protection tests: an MCP SDK client that sends credentials
 * with every request, the HTTP status and JSON-RPC body of a refusal as the SDK client reports
 * it, and a raw `tools/call` POST for the headers the SDK does not expose (`Retry-After`,
 * `WWW-Authenticate`).
 */

/** Connects the MCP SDK client to a Streamable HTTP endpoint, sending `headers` with every request. */
export async function connectHttpClientWithHeaders(url: string, headers: Record<string, string>, name = 'e2e-http'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** A JSON-RPC error response as the gateway sends it. */
export interface JsonRpcErrorBody {
  jsonrpc: string;
  id: unknown;
  error: { code: number; message: string; data?: Record<string, unknown> };
}

/** What an HTTP refusal looked like to the MCP SDK client: the status and the JSON-RPC body. */
export interface HttpRefusal {
  status: number;
  body: JsonRpcErrorBody;
}

/**
 * Awaits `call` and expects the gateway to have refused it with an HTTP error status: the SDK
 * client (v2) surfaces a non-2xx answer as an `SdkHttpError` carrying the status and the body
 * text (a `ProtocolError` is raised only for JSON-RPC errors in a 2xx answer).
 * @throws the call's error when it is not an `SdkHttpError`, or an Error when the call succeeded.
 */
export async function expectHttpRefusal(call: Promise<unknown>): Promise<HttpRefusal> {
  let result: unknown;
  try {
    result = await call;
  } catch (err) {
    if (!(err instanceof SdkHttpError)) throw err;
    const data = err.data as { status: number; text?: string };
    return { status: data.status, body: JSON.parse(data.text ?? 'null') as JsonRpcErrorBody };
  }
  throw new Error(`expected an HTTP refusal, got ${JSON.stringify(result)}`);
}

/** Headers of a raw MCP POST. */
const MCP_JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * POSTs one raw `tools/call` (2025-era body; the stateless endpoint needs no handshake) and
 * returns the status, the response headers and the parsed JSON body (undefined when not JSON).
 */
export async function postToolCall(
  url: string,
  tool: string,
  args: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: JsonRpcErrorBody | undefined }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_JSON_HEADERS, 'mcp-protocol-version': '2025-11-25', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }),
  });
  const text = await res.text();
  let body: JsonRpcErrorBody | undefined;
  try {
    body = JSON.parse(text) as JsonRpcErrorBody;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body };
}
