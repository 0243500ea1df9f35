import { AppError } from '@qsys-mcp/contracts';
import type { Scope } from '@qsys-mcp/contracts';

/** The reasons of authentication failures, as they appear after `Authentication failed: `. */
export const AUTH_REASONS = {
  invalidApiKey: 'Invalid API key',
  tokenExpired: 'Token expired',
  invalidToken: 'Invalid token',
  tokensDisabled: 'Bearer tokens are not enabled',
  unsupportedScheme: 'Unsupported authorization scheme',
  missingCredentials: 'Missing credentials',
  insufficientScope: 'Insufficient scope',
  tokenTooLarge: 'Token too large',
  wrongAudience: 'Token not issued for this resource',
  untrustedIssuer: 'Token issuer not trusted',
  keysUnavailable: 'Authorization server keys unavailable',
} as const;

/** One of {@link AUTH_REASONS}. */
export type AuthReason = (typeof AUTH_REASONS)[keyof typeof AUTH_REASONS];

/** Prefix of every authentication and authorisation failure message. */
export const AUTH_FAILED_PREFIX = 'Authentication failed: ';

/**
 * `AUTH_FAILED` (JSON-RPC -32001, HTTP 401): no valid credentials. Message
 * `Authentication failed: <reason>`, details `{ reason }` plus `extra` (the tool and the scope it
 * needs when a credential is missing). Never carries any part of the credential.
 */
export function authFailed(reason: AuthReason, extra: Record<string, unknown> = {}): AppError {
  return new AppError('AUTH_FAILED', `${AUTH_FAILED_PREFIX}${reason}`, { details: { reason, ...extra } });
}

/**
 * `FORBIDDEN` (JSON-RPC -32001, HTTP 403): valid credentials without the scope `tool` needs.
 * Message `Authentication failed: Insufficient scope: <tool> needs <scope>`, details
 * `{ reason, requiredScope, tool }`.
 */
export function forbidden(tool: string, requiredScope: Scope): AppError {
  return new AppError('FORBIDDEN', `${AUTH_FAILED_PREFIX}${AUTH_REASONS.insufficientScope}: ${tool} needs ${requiredScope}`, {
    details: { reason: AUTH_REASONS.insufficientScope, requiredScope, tool },
  });
}
