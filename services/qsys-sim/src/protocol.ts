/**
 * JSON-RPC 2.0 envelope of the QRC protocol: error codes and texts (from the QRC Error Code
 * Reference), and encoders that build reply frames as strings so that pre-serialised results
 * (the component list) are spliced in without a second `JSON.stringify`.
 */

/** QRC / JSON-RPC error codes with the texts a Core sends. */
export const QRC_ERRORS = {
  PARSE_ERROR: { code: -32700, message: 'Parse error. Invalid JSON was received by the server.' },
  INVALID_REQUEST: { code: -32600, message: 'Invalid request. The JSON sent is not a valid Request object.' },
  METHOD_NOT_FOUND: { code: -32601, message: 'Method not found.' },
  INVALID_PARAMS: { code: -32602, message: 'Invalid params.' },
  SERVER_ERROR: { code: -32603, message: 'Server error.' },
  STANDBY: {
    code: -32604,
    message:
      'Core is on Standby. This code is returned when a QRC command is received while the Core is not the active Core in a redundant Core configuration.',
  },
  CHANGE_GROUPS_EXHAUSTED: { code: 5, message: 'Change Groups exhausted' },
  UNKNOWN_CHANGE_GROUP: { code: 6, message: 'Unknown change group' },
  UNKNOWN_COMPONENT: { code: 7, message: 'Unknown component name' },
  UNKNOWN_CONTROL: { code: 8, message: 'Unknown control' },
  ILLEGAL_MIXER_CHANNEL: { code: 9, message: 'Illegal mixer channel index' },
  LOGON_REQUIRED: { code: 10, message: 'Logon required' },
  LOGON_FAILED: { code: 10, message: 'Logon failed' },
} as const;

/** Name of an entry of {@link QRC_ERRORS}. */
export type QrcErrorName = keyof typeof QRC_ERRORS;

/** A JSON-RPC request id as received: its type is kept when echoed. */
export type RpcId = string | number | null;

/** An error a method handler throws; the session turns it into a JSON-RPC error reply. */
export class RpcError extends Error {
  /** Which entry of {@link QRC_ERRORS} this is. */
  readonly kind: QrcErrorName;
  readonly code: number;
  /** Why, for the simulator's log; the wire text stays the Core's. */
  readonly detail: string | undefined;
  constructor(name: QrcErrorName, detail?: string) {
    const entry = QRC_ERRORS[name];
    super(entry.message);
    this.name = 'RpcError';
    this.kind = name;
    this.code = entry.code;
    this.detail = detail;
  }
}

/** A result already serialised to JSON; spliced into the reply as is. */
export class RawJson {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

function encodeId(id: RpcId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

/** The opening of every frame: with `"jsonrpc":"2.0"`, or without it (the `no-jsonrpc` quirk). */
function open(jsonrpc: boolean): string {
  return jsonrpc ? '{"jsonrpc":"2.0",' : '{';
}

/**
 * Builds a success reply frame (without transport framing).
 * @param jsonrpc whether the frame carries `"jsonrpc":"2.0"` (a Core does; some mocks do not).
 */
export function encodeResult(id: RpcId, result: unknown, jsonrpc = true): string {
  const body = result instanceof RawJson ? result.json : JSON.stringify(result ?? null);
  return `${open(jsonrpc)}"id":${encodeId(id)},"result":${body}}`;
}

/** Builds an error reply frame with the code and text of `name`. */
export function encodeError(id: RpcId, name: QrcErrorName, jsonrpc = true): string {
  const { code, message } = QRC_ERRORS[name];
  return `${open(jsonrpc)}"id":${encodeId(id)},"error":{"code":${code},"message":${JSON.stringify(message)}}}`;
}

/** Builds an error reply frame from a thrown {@link RpcError}. */
export function encodeRpcError(id: RpcId, err: RpcError, jsonrpc = true): string {
  return `${open(jsonrpc)}"id":${encodeId(id)},"error":{"code":${err.code},"message":${JSON.stringify(err.message)}}}`;
}

/** Builds a server-to-client notification frame (no id). */
export function encodeNotification(method: string, params: unknown, jsonrpc = true): string {
  return `${open(jsonrpc)}"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}
