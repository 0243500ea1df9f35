import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import { readBody, sendJson } from '../http-json.js';
import type { Authenticator } from './authenticator.js';
import { credentialFromHeaders } from './credentials.js';
import { AUTH_REASONS } from './errors.js';

/** Path of the token endpoint. */
export const TOKEN_PATH = '/auth/token';

/** Largest body accepted by the token endpoint, bytes. */
const MAX_TOKEN_BODY_BYTES = 16 * 1024;

const CHALLENGE = 'ApiKey realm="qsys-mcp"';

/** Options of {@link createTokenEndpoint}. */
export interface TokenEndpointOptions {
  authenticator: Authenticator;
  logger: Logger;
}

function apiKeyFromBody(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    if (body !== null && typeof body === 'object') {
      const key = (body as { apiKey?: unknown }).apiKey;
      if (typeof key === 'string' && key !== '') return key;
    }
  } catch {
    // not JSON: no key in the body
  }
  return undefined;
}

function unauthorized(res: ServerResponse, reason: string): void {
  sendJson(res, 401, { error: 'invalid_client', error_description: `Authentication failed: ${reason}`, code: 'AUTH_FAILED' }, { 'www-authenticate': CHALLENGE });
}

/**
 * `POST /auth/token`: exchanges an API key (`Authorization: ApiKey <key>`, `X-API-Key: <key>`,
 * or a JSON body `{ "apiKey": "<key>" }`) for an HS256 bearer token:
 * 200 `{ access_token, token_type: 'Bearer', expires_in, scope }`. An invalid or missing key is
 * 401 `{ error: 'invalid_client', error_description, code: 'AUTH_FAILED' }`; a bearer token is not
 * accepted in exchange. Without `MCP_JWT_SECRET` the endpoint answers 503 `tokens_disabled`.
 * Other methods: 405.
 */
export function createTokenEndpoint(options: TokenEndpointOptions): (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void> {
  const { authenticator, logger } = options;
  return async (req, res, requestId) => {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method ?? 'GET'} is not allowed on ${TOKEN_PATH}` }, { allow: 'POST' });
      return;
    }
    if (!authenticator.tokensEnabled) {
      sendJson(res, 503, { error: 'tokens_disabled', message: 'Bearer tokens are disabled: MCP_JWT_SECRET is not set.' });
      return;
    }
    const credential = credentialFromHeaders(req.headers);
    let apiKey: string | undefined;
    if (credential === undefined) {
      const text = await readBody(req, MAX_TOKEN_BODY_BYTES);
      if (text === undefined) {
        sendJson(res, 413, { error: 'payload_too_large', message: `The body must not exceed ${MAX_TOKEN_BODY_BYTES} bytes.` }, { connection: 'close' });
        return;
      }
      apiKey = apiKeyFromBody(text);
    } else if (credential.kind === 'api-key') {
      apiKey = credential.secret;
    } else {
      unauthorized(res, credential.kind === 'bearer' ? 'Tokens are issued for API keys only' : AUTH_REASONS.unsupportedScheme);
      return;
    }
    if (apiKey === undefined) {
      unauthorized(res, AUTH_REASONS.missingCredentials);
      return;
    }
    try {
      const issued = await authenticator.issueToken(apiKey);
      logger.info({ requestId, scope: issued.scope, expiresIn: issued.expires_in }, 'bearer token issued');
      sendJson(res, 200, issued);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      logger.info({ requestId, reason: err.details?.reason }, 'token request refused');
      unauthorized(res, String(err.details?.reason ?? AUTH_REASONS.invalidApiKey));
    }
  };
}
