import { startService, type ServiceProcess } from './processes.js';

/** A client of the test authorization server: its id, allowed scopes and token lifetime (seconds). */
export interface OidcClientSpec {
  id: string;
  scope: string;
  ttl?: number;
}

/** The authorization server process (`test/support/oidc-server.mjs`, oidc-provider) and what its ready line says. */
export interface OidcServer {
  readonly proc: ServiceProcess;
  /** Its issuer identifier, `http://127.0.0.1:<port>`. */
  readonly issuer: string;
  /** Client secrets by client id, made at start. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Client credentials grant with an RFC 8707 resource indicator; the token response as JSON with the HTTP status. */
  token(clientId: string, options: { scope: string; resource?: string }): Promise<{ status: number; body: { access_token?: string; scope?: string; error?: string } }>;
  /** The access token of {@link token}. @throws Error when none was issued. */
  accessToken(clientId: string, options: { scope: string; resource?: string }): Promise<string>;
  /** Adds a new signing key in front (the old ones stay published); the published kids. */
  rotate(): Promise<string[]>;
  /** Removes every published key but the newest; the published kids. */
  retire(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts a real OAuth 2.1 / OpenID authorization server (oidc-provider) in a child process on a port chosen by the OS. */
export async function startOidcServer(clients: readonly OidcClientSpec[], name = 'oidc'): Promise<OidcServer> {
  const proc = await startService({ name, script: 'test/support/oidc-server.mjs', env: { OIDC_CLIENTS: JSON.stringify(clients) } });
  const issuer = String(proc.ready.issuer);
  const secrets = proc.ready.clients as Record<string, string>;
  const admin = async (action: 'rotate' | 'retire'): Promise<string[]> => {
    const res = await fetch(`${issuer}/test-admin/${action}`, { method: 'POST' });
    if (!res.ok) throw new Error(`${action}: HTTP ${res.status}`);
    return ((await res.json()) as { kids: string[] }).kids;
  };
  const token: OidcServer['token'] = async (clientId, options) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope });
    if (options.resource !== undefined) body.set('resource', options.resource);
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secrets[clientId] ?? ''}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: res.status, body: (await res.json()) as { access_token?: string; scope?: string; error?: string } };
  };
  return {
    proc,
    issuer,
    secrets,
    token,
    async accessToken(clientId, options) {
      const res = await token(clientId, options);
      if (res.body.access_token === undefined) throw new Error(`no token for ${clientId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.access_token;
    },
    rotate: () => admin('rotate'),
    retire: () => admin('retire'),
    stop: async () => {
      await proc.stop();
    },
  };
}
