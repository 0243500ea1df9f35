/**
 * The one error table of the product. Every failure that crosses a process boundary carries
 * one of these stable codes; callers branch on `code`, never on the message text. A code's
 * meaning never changes. `docs/errors.md` documents every code (a test enforces it).
 */
export const ERROR_CODES = {
  INVALID_PARAMS: { status: 400, jsonRpc: -32602, retryable: false, hint: 'Fix the arguments named in details and call again.' },
  PARSE_ERROR: { status: 400, jsonRpc: -32700, retryable: false, hint: 'Send well-formed JSON.' },
  AUTH_FAILED: { status: 401, jsonRpc: -32001, retryable: false, hint: 'Send a valid API key or bearer token.' },
  FORBIDDEN: { status: 403, jsonRpc: -32001, retryable: false, hint: 'Use credentials that carry the scope named in details.' },
  RATE_LIMITED: { status: 429, jsonRpc: -32005, retryable: true, hint: 'Wait retryAfterMs and call again.' },
  QSYS_UNKNOWN_COMPONENT: { status: 404, jsonRpc: -32602, retryable: false, hint: 'List components with qsys.list_components and use an exact name.' },
  QSYS_UNKNOWN_CONTROL: { status: 404, jsonRpc: -32602, retryable: false, hint: 'List the component\'s controls with qsys.get_component and use an exact name.' },
  QSYS_VALUE_OUT_OF_RANGE: { status: 400, jsonRpc: -32602, retryable: false, hint: 'Send a value within details.valueMin..details.valueMax.' },
  QSYS_VALUE_TYPE_MISMATCH: { status: 400, jsonRpc: -32602, retryable: false, hint: 'Send a value of the type details.expected (see the control\'s type).' },
  SAFETY_RAMP_REQUIRED: { status: 400, jsonRpc: -32602, retryable: false, hint: 'The change is larger than the safety envelope allows in one step: call again with ramp_time of at least details.minRampSeconds, or change the value in steps of at most details.step.' },
  CONTROL_PROTECTED: { status: 403, jsonRpc: -32603, retryable: false, hint: 'This control is protected by the safety envelope (details.pattern): only a caller with the qsys:admin scope may change it; ask an operator.' },
  QSYS_CONTROL_READ_ONLY: { status: 400, jsonRpc: -32602, retryable: false, hint: 'This control can only be read; choose a Read/Write control.' },
  QSYS_LOGON_REQUIRED: { status: 502, jsonRpc: -32603, retryable: false, hint: 'Configure QSYS_USERNAME and QSYS_PASSWORD (or QSYS_API_KEY when the Core requires an API key) for the connector.' },
  QSYS_CORE_STANDBY: { status: 503, jsonRpc: -32603, retryable: true, hint: 'The Core is the Standby of a redundant pair; connect to the Active Core.' },
  QSYS_CHANGE_GROUPS_EXHAUSTED: { status: 503, jsonRpc: -32603, retryable: true, hint: 'Close other change groups on this connection.' },
  QSYS_UNKNOWN_CHANGE_GROUP: { status: 404, jsonRpc: -32603, retryable: false, hint: 'Create the change group again.' },
  QSYS_INVALID_PARAMS: { status: 400, jsonRpc: -32602, retryable: false, hint: 'The Core refused the parameters; check the value types and names.' },
  QSYS_CORE_ERROR: { status: 502, jsonRpc: -32603, retryable: false, hint: 'The Core answered with an error (details.qrcCode and details.qrcMessage) or with a result the connector cannot read (details.method, details.received).' },
  QSYS_METHOD_NOT_SUPPORTED: { status: 501, jsonRpc: -32603, retryable: false, hint: 'This Core (firmware or implementation) does not answer the QRC method in details.method; use another tool or update the Core.' },
  QSYS_TIMEOUT: { status: 504, jsonRpc: -32603, retryable: true, hint: 'The Core did not answer in time; check its load and network.' },
  CORE_UNAVAILABLE: { status: 503, jsonRpc: -32603, retryable: true, hint: 'Check that the connector for this core is running and connected to the Core.' },
  CIRCUIT_OPEN: { status: 503, jsonRpc: -32603, retryable: true, hint: 'Wait until details.nextAttemptAt or reset the breaker.' },
  UNKNOWN_CORE: { status: 404, jsonRpc: -32602, retryable: false, hint: 'Use a configured core id.' },
  AUDIT_UNAVAILABLE: { status: 503, jsonRpc: -32603, retryable: true, hint: 'The audit trail (the JetStream stream AUDIT or the audit service) is unavailable; retry when NATS and the audit service are back.' },
  UNDO_CONFLICT: { status: 409, jsonRpc: -32603, retryable: false, hint: 'A control to undo was changed since your write (details.changedBy and details.changedAt say who and when, when the audit trail knows): nothing was undone; read the control and decide, or set it yourself.' },
  UNDO_NOT_POSSIBLE: { status: 409, jsonRpc: -32603, retryable: false, hint: 'The audit trail holds fewer of your writes than steps on this core, or not the value a write replaced (details.reason): nothing was undone; call with fewer steps, or set the control yourself.' },
  BUS_NO_RESPONDERS: { status: 503, jsonRpc: -32603, retryable: true, hint: 'No service answers this subject; start it or check its NATS connection.' },
  BUS_TIMEOUT: { status: 504, jsonRpc: -32603, retryable: true, hint: 'The service did not answer before the deadline.' },
  BUS_CLOSED: { status: 503, jsonRpc: -32603, retryable: true, hint: 'The connection to the message bus is closed or reconnecting.' },
  INTERNAL: { status: 500, jsonRpc: -32603, retryable: false, hint: 'An unexpected error; see the service logs with the request id.' },
} as const;

/** A stable error code from {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Hints for one case of a code, chosen by a details field the error carries; the code and its
 * meaning stay the same. An unknown Named Control (the connector names the requested ones in
 * `details.names`) is not found through `qsys.get_component`, which the table's hint names.
 */
const CASE_HINTS: Readonly<Partial<Record<ErrorCode, { readonly detail: string; readonly hint: string }>>> = {
  QSYS_UNKNOWN_CONTROL: {
    detail: 'names',
    hint: "Check the name against the design's Named Controls (Q-SYS Designer) and call qsys.get_named_controls or qsys.set_named_control with an exact name.",
  },
};

/** JSON-RPC codes the product emits, named once here (no bare -32xxx literals elsewhere). */
export const JSON_RPC_CODES = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  AUTH_FAILED: -32001,
  RATE_LIMITED: -32005,
} as const;

/** Options for {@link AppError}. */
export interface AppErrorOptions {
  /** The underlying error, kept for logs; never serialised. */
  cause?: unknown;
  /** Structured, JSON-safe facts for the caller (names, ranges, retry times). */
  details?: Record<string, unknown>;
  /** Overrides the table's retryable flag. */
  retryable?: boolean;
}

/** The JSON form of an {@link AppError} as it crosses NATS and appears in tool results. */
export interface AppErrorJson {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  retryable: boolean;
  hint: string;
}

/** The one error type of the product: a stable code, a message for humans, JSON details. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
  }

  /** HTTP status that corresponds to the code. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** JSON-RPC error code that corresponds to the code. */
  get jsonRpcCode(): number {
    return ERROR_CODES[this.code].jsonRpc;
  }

  /** What the caller can do about it: the table's hint, or its case's ({@link CASE_HINTS}). */
  get hint(): string {
    const special = CASE_HINTS[this.code];
    if (special !== undefined && this.details?.[special.detail] !== undefined) return special.hint;
    return ERROR_CODES[this.code].hint;
  }

  toJSON(): AppErrorJson {
    const json: AppErrorJson = { code: this.code, message: this.message, retryable: this.retryable, hint: this.hint };
    if (this.details !== undefined) json.details = this.details;
    return json;
  }
}

/** True when `code` is one of the table's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * Rebuilds an {@link AppError} from its JSON form (a NATS error reply body). Anything that is
 * not a known code becomes `INTERNAL`.
 */
export function appErrorFromJson(json: unknown): AppError {
  if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (isErrorCode(o.code) && typeof o.message === 'string') {
      const details = o.details !== null && typeof o.details === 'object' ? (o.details as Record<string, unknown>) : undefined;
      const opts: AppErrorOptions = {};
      if (details !== undefined) opts.details = details;
      if (typeof o.retryable === 'boolean') opts.retryable = o.retryable;
      return new AppError(o.code, o.message, opts);
    }
  }
  return new AppError('INTERNAL', 'Malformed error reply');
}

/** Wraps anything thrown into an {@link AppError}; unknown errors become `INTERNAL`. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL', 'Internal error', { cause: err });
}
