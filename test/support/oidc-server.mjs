// A real OAuth 2.1 / OpenID Connect authorization server for the tests (oidc-provider), run as a
// child process: `node test/support/oidc-server.mjs`, port from OIDC_PORT (0: chosen by the OS).
// It issues JWT access tokens (RS256) with client credentials and RFC 8707 resource indicators:
// the token's `aud` is the `resource` the client asked for. Clients and their secrets are made
// at start (OIDC_CLIENTS, JSON `[{ id, scope, ttl? }]`) and printed on the ready line, which is
// one JSON line `{"msg":"ready","issuer":…,"clients":{id:secret},"kids":[…]}`. Nothing here is
// a real secret.
//
// Key rotation (test hook, loopback only): `POST /test-admin/rotate` adds a new signing key in
// front of the published ones; `POST /test-admin/retire` removes every key but the newest. Both
// answer `{"kids":[…]}` with the keys now published.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const SCOPES = ['qsys:read', 'qsys:write', 'qsys:admin'];
const clientsSpec = JSON.parse(process.env.OIDC_CLIENTS ?? '[{"id":"qsys-agent","scope":"qsys:read qsys:write qsys:admin"}]');
const secrets = Object.fromEntries(clientsSpec.map((c) => [c.id, randomBytes(24).toString('base64url')]));
const ttlOf = Object.fromEntries(clientsSpec.map((c) => [c.id, c.ttl ?? 300]));

let keyCount = 0;
async function newKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  keyCount += 1;
  return { ...(await exportJWK(privateKey)), kid: `test-key-${keyCount}-${randomBytes(3).toString('hex')}`, alg: 'RS256', use: 'sig' };
}

/** Signing keys, the first one signs. */
let keys = [await newKey()];
let handler = () => undefined;

function build(issuer) {
  const provider = new Provider(issuer, {
    clients: clientsSpec.map((c) => ({
      client_id: c.id,
      client_secret: secrets[c.id],
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: c.scope,
    })),
    jwks: { keys },
    scopes: SCOPES,
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // A request without `resource` gets no token for a resource server (opaque, no audience).
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator, client) => ({
          scope: SCOPES.join(' '),
          audience: resourceIndicator,
          accessTokenTTL: ttlOf[client.clientId] ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  // Its warnings about development settings go to stderr; the ready line is the one stdout line.
  return provider.callback();
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && (req.url === '/test-admin/rotate' || req.url === '/test-admin/retire')) {
    void (async () => {
      if (req.url === '/test-admin/rotate') keys = [await newKey(), ...keys];
      else keys = keys.slice(0, 1);
      handler = build(issuer);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kids: keys.map((k) => k.kid) }));
    })();
    return;
  }
  handler(req, res);
});
await new Promise((resolve) => server.listen(Number(process.env.OIDC_PORT ?? 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
handler = build(issuer);
process.stdout.write(`${JSON.stringify({ msg: 'ready', issuer, clients: secrets, kids: keys.map((k) => k.kid) })}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
