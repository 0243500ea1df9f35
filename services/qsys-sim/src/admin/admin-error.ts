/** Stable codes of the admin interface's error answers (`{"error":{"code",…}}`), with their HTTP statuses. */
export const ADMIN_ERROR_CODES = {
  /** The body is not valid JSON. */
  INVALID_JSON: { code: 'SIM_ADMIN_INVALID_JSON', status: 400 },
  /** The body is JSON but not what the route takes; `problems` lists every finding. */
  INVALID_BODY: { code: 'SIM_ADMIN_INVALID_BODY', status: 400 },
  /** The body is larger than the admin interface reads. */
  BODY_TOO_LARGE: { code: 'SIM_ADMIN_BODY_TOO_LARGE', status: 413 },
  /** No such route. */
  NOT_FOUND: { code: 'SIM_ADMIN_NOT_FOUND', status: 404 },
  /** The route exists with another HTTP method (see the `Allow` header). */
  METHOD_NOT_ALLOWED: { code: 'SIM_ADMIN_METHOD_NOT_ALLOWED', status: 405 },
  /** A pair-only operation (switchover) on a single Core. */
  NOT_A_PAIR: { code: 'SIM_ADMIN_NOT_A_PAIR', status: 409 },
  /** An unexpected failure (logged by the simulator). */
  INTERNAL: { code: 'SIM_ADMIN_INTERNAL', status: 500 },
} as const;

/** Name of an entry of {@link ADMIN_ERROR_CODES}. */
export type AdminErrorName = keyof typeof ADMIN_ERROR_CODES;

/** One of the `code` strings of {@link ADMIN_ERROR_CODES}. */
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[AdminErrorName]['code'];

/** A request the admin interface refuses; answered as `{"error":{code,message,problems}}` with its status. */
export class AdminError extends Error {
  readonly code: string;
  readonly status: number;
  /** One line per finding, `<field>: <what is wrong>`. */
  readonly problems: readonly string[];
  constructor(name: AdminErrorName, message: string, problems: readonly string[] = []) {
    super(message);
    this.name = 'AdminError';
    this.code = ADMIN_ERROR_CODES[name].code;
    this.status = ADMIN_ERROR_CODES[name].status;
    this.problems = problems;
  }
}
