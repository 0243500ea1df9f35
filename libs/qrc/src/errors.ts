import { AppError, JSON_RPC_CODES } from '@qsys-mcp/contracts';
import type { ErrorCode } from '@qsys-mcp/contracts';

/**
 * QRC error codes a Core sends in `error.code` (QRC Commands, "Error Code Reference"), named
 * once here. The -326xx values are JSON-RPC codes; -32604 is Q-SYS's own "Core is on Standby".
 */
export const QRC_ERROR_CODES = {
  PARSE_ERROR: JSON_RPC_CODES.PARSE_ERROR,
  INVALID_REQUEST: JSON_RPC_CODES.INVALID_REQUEST,
  METHOD_NOT_FOUND: JSON_RPC_CODES.METHOD_NOT_FOUND,
  INVALID_PARAMS: JSON_RPC_CODES.INVALID_PARAMS,
  SERVER_ERROR: JSON_RPC_CODES.INTERNAL_ERROR,
  CORE_STANDBY: -32604,
  BAD_PARAMETERS: 1,
  INVALID_PAGE_REQUEST_ID: 2,
  BAD_PAGE_REQUEST: 3,
  MISSING_FILE: 4,
  CHANGE_GROUPS_EXHAUSTED: 5,
  UNKNOWN_CHANGE_GROUP: 6,
  UNKNOWN_COMPONENT: 7,
  UNKNOWN_CONTROL: 8,
  ILLEGAL_MIXER_CHANNEL: 9,
  LOGON_REQUIRED: 10,
} as const;

/** The product error code for each QRC error code that has its own; all others are `QSYS_CORE_ERROR`. */
const APP_CODE_BY_QRC_CODE: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [QRC_ERROR_CODES.UNKNOWN_COMPONENT, 'QSYS_UNKNOWN_COMPONENT'],
  [QRC_ERROR_CODES.UNKNOWN_CONTROL, 'QSYS_UNKNOWN_CONTROL'],
  [QRC_ERROR_CODES.LOGON_REQUIRED, 'QSYS_LOGON_REQUIRED'],
  [QRC_ERROR_CODES.CORE_STANDBY, 'QSYS_CORE_STANDBY'],
  [QRC_ERROR_CODES.CHANGE_GROUPS_EXHAUSTED, 'QSYS_CHANGE_GROUPS_EXHAUSTED'],
  [QRC_ERROR_CODES.UNKNOWN_CHANGE_GROUP, 'QSYS_UNKNOWN_CHANGE_GROUP'],
  [QRC_ERROR_CODES.INVALID_PARAMS, 'QSYS_INVALID_PARAMS'],
  [QRC_ERROR_CODES.METHOD_NOT_FOUND, 'QSYS_METHOD_NOT_SUPPORTED'],
]);

/**
 * Other implementations send the documented texts under other codes (a generic -32603, -32602
 * or a code of their own). For codes without a mapping of their own, and for -32602, the text
 * decides; any other code the table maps wins over the text.
 */
const APP_CODE_BY_QRC_TEXT: ReadonlyArray<readonly [RegExp, ErrorCode]> = [
  [/unknown component|component (?:name )?not found|no such component/i, 'QSYS_UNKNOWN_COMPONENT'],
  [/unknown control|control (?:name )?not found|no such control/i, 'QSYS_UNKNOWN_CONTROL'],
  [/logon required|not logged on|api ?key/i, 'QSYS_LOGON_REQUIRED'],
  [/method not found/i, 'QSYS_METHOD_NOT_SUPPORTED'],
];

function codeFromText(message: string): ErrorCode | undefined {
  for (const [pattern, code] of APP_CODE_BY_QRC_TEXT) if (pattern.test(message)) return code;
  return undefined;
}

/**
 * Turns the `error` member of a Core's JSON-RPC reply into an {@link AppError}:
 * 7 → `QSYS_UNKNOWN_COMPONENT`, 8 → `QSYS_UNKNOWN_CONTROL`, 10 → `QSYS_LOGON_REQUIRED`,
 * -32604 → `QSYS_CORE_STANDBY`, 5 → `QSYS_CHANGE_GROUPS_EXHAUSTED`,
 * 6 → `QSYS_UNKNOWN_CHANGE_GROUP`, -32602 → `QSYS_INVALID_PARAMS`, -32601 →
 * `QSYS_METHOD_NOT_SUPPORTED`; another code whose message is a documented text ("Unknown
 * component name", "Unknown control", "Logon required", "Method not found") → that text's
 * code (also under -32602, which says only "Invalid params"); anything else (including a malformed error member) → `QSYS_CORE_ERROR`.
 *
 * Never throws. `details` is always `{ qrcCode, qrcMessage, method }`; `qrcCode` is `null`
 * and `qrcMessage` `''` when the Core did not send them.
 *
 * @param error the reply's `error` member, normally `{ code: number, message: string }`.
 * @param method the JSON-RPC method of the request that failed.
 */
export function qrcErrorToAppError(error: unknown, method: string): AppError {
  let qrcCode: number | null = null;
  let qrcMessage = '';
  if (error !== null && typeof error === 'object') {
    const e = error as Record<string, unknown>;
    if (typeof e.code === 'number') qrcCode = e.code;
    if (typeof e.message === 'string') qrcMessage = e.message;
  }
  const byCode = qrcCode === null ? undefined : APP_CODE_BY_QRC_CODE.get(qrcCode);
  // -32602 is generic ("Invalid params"): a documented text under it says more.
  const byText = byCode === undefined || byCode === 'QSYS_INVALID_PARAMS' ? codeFromText(qrcMessage) : undefined;
  const code = byText ?? byCode ?? 'QSYS_CORE_ERROR';
  const text = qrcMessage === '' ? 'no message' : qrcMessage;
  return new AppError(code, `Q-SYS Core rejected ${method} (QRC error ${qrcCode ?? 'without code'}): ${text}`, {
    details: { qrcCode, qrcMessage, method },
  });
}
