import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@modelcontextprotocol/client';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus, ensureNatsStream, type NatsBus } from '@qsys-mcp/bus/nats';
import { AUDIT_EVENTS_WILDCARD, AUDIT_QUERY_SUBJECT, AUDIT_STREAM, AUDIT_STREAM_DEFAULTS, CHANGE_FEED_STREAM } from '@qsys-mcp/contracts';
import { callTool, connectHttpClient, type ToolResult } from '../support/mcp-clients.js';
import { startNatsServer, type NatsServer } from '../support/nats-server.js';
import { REPO_ROOT, startService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

// deploy/nats/accounts.conf as nats-server runs it: every service connects with its own user,
// and this file proves each permission with the services' own code (the gateway, connector and
// audit processes, the bus library, the JetStream and KV clients) and each refusal with the server's
// own verdict (its "Publish Violation" / "Subscription Violation" log line) plus the absence
// of the effect (the Core value unchanged, the stream not purged).

const NATS_DIR = join(REPO_ROOT, 'deploy/nats');
/** The audit service's AUDIT_STREAM_MAX_AGE_MS in this test: not the gateway's default, so its update shows. */
const AUDIT_MAX_AGE_MS = 2 * AUDIT_STREAM_DEFAULTS.maxAgeMs;
const ACCOUNTS_CONF = readFileSync(join(NATS_DIR, 'accounts.conf'), 'utf8');
const run = promisify(execFile);

/** Passwords of this run: letters and digits starting with a letter (see docs/deployment.md). */
const password = (): string => `p${randomBytes(16).toString('hex')}`;
const PASSWORDS = {
  gateway: password(),
  connector_main: password(),
  audit: password(),
  integration: password(),
} as const;
type NatsUser = keyof typeof PASSWORDS;
/** The variables accounts.conf reads the passwords from. */
const PASSWORD_ENV: Record<string, string> = {
  GATEWAY_NATS_PASSWORD: PASSWORDS.gateway,
  CONNECTOR_MAIN_NATS_PASSWORD: PASSWORDS.connector_main,
  AUDIT_NATS_PASSWORD: PASSWORDS.audit,
  INTEGRATION_NATS_PASSWORD: PASSWORDS.integration,
};
/** Each user's reply-inbox prefix (NATS_INBOX_PREFIX), as the manifests set it. */
const INBOX: Record<NatsUser, string | undefined> = {
  gateway: '_INBOX_gateway',
  connector_main: '_INBOX_connector_main',
  audit: '_INBOX_audit',
  integration: undefined,
};

interface Violation {
  kind: 'Publish' | 'Subscription';
  user: string;
  subject: string;
}

let nats: NatsServer;
let sim: ServiceProcess;
let connector: ServiceProcess;
let gateway: ServiceProcess;
let client: Client;
const extraProcesses: ServiceProcess[] = [];
const buses: NatsBus[] = [];
const connections: NatsConnection[] = [];
const tempDirs: string[] = [];
/** Violations this file provokes on purpose; the last test checks that nothing else was refused. */
const provoked: ((v: Violation) => boolean)[] = [];

/** Every violation the server logged so far. */
function violations(): Violation[] {
  const found: Violation[] = [];
  for (const m of nats.output().matchAll(/(Publish|Subscription) Violation - User "([^"]*)", Subject "([^"]*)"/g)) {
    found.push({ kind: m[1] as Violation['kind'], user: m[2]!, subject: m[3]! });
  }
  return found;
}

/** Waits for the server to log that it refused `user` on `subject` (exact or by pattern). */
async function expectRefused(kind: Violation['kind'], user: NatsUser, subject: string | RegExp): Promise<void> {
  const matches = (v: Violation): boolean => v.kind === kind && v.user === user && (typeof subject === 'string' ? v.subject === subject : subject.test(v.subject));
  provoked.push(matches);
  await waitFor(() => violations().some(matches), { timeoutMs: 5000, what: `${kind} Violation of ${user} on ${String(subject)}` });
}

/** The bus library (what every service uses) connected as `user`. */
async function busAs(user: NatsUser): Promise<NatsBus> {
  const inboxPrefix = INBOX[user];
  const bus = await createNatsBus({
    servers: nats.url,
    name: `test-${user}`,
    user,
    pass: PASSWORDS[user],
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
  });
  buses.push(bus);
  return bus;
}

/** A plain NATS connection as `user` (what an integration's client does). */
async function connectionAs(user: NatsUser): Promise<NatsConnection> {
  const inboxPrefix = INBOX[user];
  const nc = await connect({ servers: nats.url, user, pass: PASSWORDS[user], ...(inboxPrefix === undefined ? {} : { inboxPrefix }) });
  connections.push(nc);
  return nc;
}

function natsEnv(user: NatsUser): Record<string, string> {
  const env: Record<string, string> = { NATS_URL: nats.url, NATS_USER: user, NATS_PASSWORD: PASSWORDS[user] };
  const inboxPrefix = INBOX[user];
  if (inboxPrefix !== undefined) env.NATS_INBOX_PREFIX = inboxPrefix;
  return env;
}

function connectorEnv(core: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...natsEnv('connector_main'),
    QSYS_CORE_ID: core,
    QSYS_HOST: '127.0.0.1',
    QSYS_PORT: String(sim.ready.wsPort),
    QSYS_SECURE: 'false',
    QSYS_RECONNECT_INTERVAL_MS: '100',
    CONNECTOR_LEASE_TTL_MS: '2000',
    ...extra,
  };
}

async function mainGain(): Promise<number> {
  const result = await callTool(client, 'qsys.get_component', { component_name: 'Main Gain', controls: ['gain'] });
  expect(result.isError, JSON.stringify(result)).toBeFalsy();
  const controls = (result.structuredContent as { controls: { value: number }[] }).controls;
  return controls[0]!.value;
}

function errorCode(result: ToolResult): unknown {
  return (result.structuredContent?.error as { code?: unknown } | undefined)?.code;
}

const auditStream = (replicas = 1) => ({
  name: AUDIT_STREAM,
  subjects: [AUDIT_EVENTS_WILDCARD],
  maxAgeMs: AUDIT_STREAM_DEFAULTS.maxAgeMs,
  maxBytes: AUDIT_STREAM_DEFAULTS.maxBytes,
  duplicateWindowMs: AUDIT_STREAM_DEFAULTS.duplicateWindowMs,
  replicas,
});

beforeAll(async () => {
  // nats-server inherits this environment: the passwords reach accounts.conf as $VARIABLES.
  Object.assign(process.env, PASSWORD_ENV);
  nats = await startNatsServer({ config: ACCOUNTS_CONF });
  sim = await startService({ name: 'qsys-sim', script: 'services/qsys-sim/dist/main.js', env: { SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_ADMIN_PORT: '0' } });
  connector = await startService({ name: 'connector', script: 'services/connector/dist/main.js', env: connectorEnv('main', { CONNECTOR_INSTANCE_ID: 'connector-a' }) });
  gateway = await startService({
    name: 'gateway',
    script: 'services/gateway/dist/main.js',
    env: { ...natsEnv('gateway'), MCP_HTTP_PORT: '0', MCP_REQUEST_TIMEOUT_MS: '1500', MCP_RATE_LIMIT_ENABLED: 'false' },
  });
  client = await connectHttpClient(String(gateway.ready.url));
  try {
    await waitFor(async () => (await callTool(client, 'qsys.get_core_status', {})).isError !== true, { timeoutMs: 20_000, what: 'the connector to serve through the gateway' });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- violations ---\n${JSON.stringify(violations(), null, 1)}\n--- connector ---\n${connector.output().slice(-4000)}`);
  }
}, 60_000);

afterAll(async () => {
  await client?.close();
  await Promise.allSettled(buses.map((b) => b.close()));
  await Promise.allSettled(connections.map((c) => c.close()));
  await Promise.allSettled([...extraProcesses, gateway, connector, sim].map((p) => p?.stop()));
  await nats?.dispose();
  await Promise.allSettled(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
  for (const name of Object.keys(PASSWORD_ENV)) delete process.env[name];
});

describe('nats-server with deploy/nats', () => {
  it('nats-server.conf is a valid configuration when the passwords are set, and names the missing one otherwise', async () => {
    const conf = join(NATS_DIR, 'nats-server.conf');
    const valid = await run('nats-server', ['-t', '-c', conf], { env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin`, ...PASSWORD_ENV } });
    expect(`${valid.stdout}${valid.stderr}`).toMatch(/is valid/);
    const { GATEWAY_NATS_PASSWORD: _unset, ...others } = PASSWORD_ENV;
    const invalid = run('nats-server', ['-t', '-c', conf], { env: { PATH: `${process.env.PATH ?? ''}:/usr/sbin`, ...others } });
    await expect(invalid).rejects.toMatchObject({ stderr: expect.stringContaining('GATEWAY_NATS_PASSWORD') });
  });

  it('refuses a client without credentials and one with a wrong password', async () => {
    await expect(connect({ servers: nats.url })).rejects.toMatchObject({ name: 'AuthorizationError' });
    await expect(connect({ servers: nats.url, user: 'gateway', pass: PASSWORDS.integration })).rejects.toMatchObject({ name: 'AuthorizationError' });
    await expect(connect({ servers: nats.url, user: 'integration', pass: PASSWORDS.gateway })).rejects.toMatchObject({ name: 'AuthorizationError' });
  });
});

describe('gateway user', () => {
  it('sends tool calls to the connector of a core (qsys.<core>.<op> request, replies on _INBOX_gateway)', async () => {
    await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -20 });
    expect(await mainGain()).toBe(-20);
  });

  it('created the AUDIT stream (before any audit service ran) and publishes the audit event of each call into it', async () => {
    const bus = await busAs('gateway');
    const jsm = await jetstreamManager(bus.connection);
    const before = (await jsm.streams.info(AUDIT_STREAM)).state.messages;
    expect(before).toBeGreaterThan(0);
    await callTool(client, 'qsys.get_core_status', {});
    // The gateway answers once JetStream has acknowledged the event.
    expect((await jsm.streams.info(AUDIT_STREAM)).state.messages).toBeGreaterThan(before);
    expect(await ensureNatsStream(bus, auditStream(), 'create-if-missing')).toBe('unchanged');
  });

  it('created the change feed stream QSYS_CHANGES and reads it: a write through the gateway is in qsys.get_changes', async () => {
    const watch = await callTool(client, 'qsys.watch', { controls: [{ component_name: 'Main Gain', control_name: 'gain' }] });
    expect(watch.isError, JSON.stringify(watch)).toBeFalsy();
    await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -12 });
    const changes = await waitFor(
      async () => {
        const result = await callTool(client, 'qsys.get_changes', { cursor: watch.structuredContent?.cursor, wait_ms: 1_000 });
        expect(result.isError, JSON.stringify(result)).toBeFalsy();
        const list = (result.structuredContent as { changes: { value: unknown }[] }).changes;
        return list.some((c) => c.value === -12) ? list : undefined;
      },
      { timeoutMs: 10_000, what: 'the write in the change feed' },
    );
    expect(changes.at(-1)).toMatchObject({ component: 'Main Gain', control: 'gain', value: -12 });
  });

  it('finds the connectors by service discovery ($SRV.PING): qsys.list_cores lists core main', async () => {
    const result = await callTool(client, 'qsys.list_cores', {});
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect((result.structuredContent as { cores: Array<{ core: string; connected: boolean }> }).cores).toEqual([
      expect.objectContaining({ core: 'main', connected: true }),
    ]);
  });

  it('may not purge or delete the change feed stream', async () => {
    const bus = await busAs('gateway');
    const jsm = await jetstreamManager(bus.connection);
    await expect(jsm.streams.purge(CHANGE_FEED_STREAM)).rejects.toThrow();
    await expectRefused('Publish', 'gateway', `$JS.API.STREAM.PURGE.${CHANGE_FEED_STREAM}`);
    await expect(jsm.streams.delete(CHANGE_FEED_STREAM)).rejects.toThrow();
    await expectRefused('Publish', 'gateway', `$JS.API.STREAM.DELETE.${CHANGE_FEED_STREAM}`);
    expect((await jsm.streams.info(CHANGE_FEED_STREAM)).config.subjects).toEqual(['qsys.*.evt.controls']);
  });

  it('may not forge Core events, serve a core, take a lease, or read, purge or delete the audit trail', async () => {
    const bus = await busAs('gateway');
    bus.publish('qsys.main.evt.controls', { forged: true });
    await expectRefused('Publish', 'gateway', 'qsys.main.evt.controls');

    bus.subscribe('qsys.main.>', () => undefined);
    await expectRefused('Subscription', 'gateway', 'qsys.main.>');

    bus.subscribe(AUDIT_QUERY_SUBJECT, () => undefined);
    await expectRefused('Subscription', 'gateway', AUDIT_QUERY_SUBJECT);

    const kv = new Kvm(bus.connection);
    await expect(kv.open('qsys_connector_leases').then((b) => b.put('main', 'gateway'))).rejects.toThrow();
    await expectRefused('Publish', 'gateway', /^\$(JS\.API\.STREAM\.INFO\.KV_qsys_connector_leases|KV\.qsys_connector_leases\.main)$/);

    const jsm = await jetstreamManager(bus.connection);
    await expect(jsm.streams.purge(AUDIT_STREAM)).rejects.toThrow();
    await expectRefused('Publish', 'gateway', `$JS.API.STREAM.PURGE.${AUDIT_STREAM}`);
    await expect(jsm.streams.delete(AUDIT_STREAM)).rejects.toThrow();
    await expectRefused('Publish', 'gateway', `$JS.API.STREAM.DELETE.${AUDIT_STREAM}`);
    await expect(jsm.consumers.add(AUDIT_STREAM, { durable_name: 'reader', ack_policy: AckPolicy.Explicit })).rejects.toThrow();
    await expectRefused('Publish', 'gateway', new RegExp(`^\\$JS\\.API\\.CONSUMER\\.(DURABLE\\.)?CREATE\\.${AUDIT_STREAM}\\b`));

    bus.subscribe('_INBOX_connector_main.>', () => undefined);
    await expectRefused('Subscription', 'gateway', '_INBOX_connector_main.>');
  });
});

describe('connector user (core main)', () => {
  it('holds the lease of core main in KV, serves qsys.main.* and publishes qsys.main.evt.*', async () => {
    expect(connector.lines().some((l) => l.msg === 'leader: connected to the Core and serving')).toBe(true);
    const events: string[] = [];
    const watcher = await busAs('integration');
    watcher.subscribe('qsys.main.evt.>', (e) => events.push(e.subject));
    await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -21 });
    await waitFor(() => events.includes('qsys.main.evt.controls'), { what: 'a control change event from the connector' });
  });

  it('a second replica with the same user stands by on the same lease and takes over when the leader stops', async () => {
    const standby = await startService({ name: 'connector-b', script: 'services/connector/dist/main.js', env: connectorEnv('main', { CONNECTOR_INSTANCE_ID: 'connector-b' }) });
    extraProcesses.push(standby);
    await connector.stop();
    await waitFor(() => standby.lines().some((l) => l.msg === 'leader: connected to the Core and serving'), { timeoutMs: 15_000, what: 'the standby to take the lease' });
    await waitFor(async () => (await callTool(client, 'qsys.get_core_status', {})).isError !== true, { timeoutMs: 10_000, what: 'the new leader to serve' });
  }, 30_000);

  it('may not take the lease of another core', async () => {
    const other = await startService({ name: 'connector-other', script: 'services/connector/dist/main.js', env: connectorEnv('other', { CONNECTOR_INSTANCE_ID: 'connector-other' }) });
    extraProcesses.push(other);
    await expectRefused('Publish', 'connector_main', '$KV.qsys_connector_leases.other');
    const result = await callTool(client, 'qsys.get_core_status', { core: 'other' });
    expect(errorCode(result)).toBe('CORE_UNAVAILABLE');
    await other.stop();
  });

  it('may not serve or publish the subjects of another core', async () => {
    const other = await startService({ name: 'connector-other-nolease', script: 'services/connector/dist/main.js', env: connectorEnv('other', { CONNECTOR_INSTANCE_ID: 'connector-other-2', CONNECTOR_LEASE: 'false' }) });
    extraProcesses.push(other);
    await expectRefused('Subscription', 'connector_main', 'qsys.other.status');
    await expectRefused('Subscription', 'connector_main', /^\$SRV\.PING\.qsys-connector-other/);
    await expectRefused('Publish', 'connector_main', /^qsys\.other\.evt\./);
    const result = await callTool(client, 'qsys.get_core_status', { core: 'other' });
    expect(errorCode(result)).toBe('CORE_UNAVAILABLE');
    await other.stop();
  });

  it('may not call a core itself, bypassing the gateway, nor write audit events', async () => {
    const bus = await busAs('connector_main');
    await expect(bus.request('qsys.main.control.set', { controls: [{ component: 'Main Gain', control: 'gain', value: -40 }] }, { timeoutMs: 1000 })).rejects.toThrow();
    await expectRefused('Publish', 'connector_main', 'qsys.main.control.set');
    bus.publish('audit.events.qsys.set_control', { forged: true });
    await expectRefused('Publish', 'connector_main', 'audit.events.qsys.set_control');
    expect(await mainGain()).not.toBe(-40);
  });
});

describe('audit user', () => {
  it('the audit service brings the AUDIT stream to its settings, stores the events from its durable pull consumer and answers audit.query for the gateway', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qsys-audit-'));
    tempDirs.push(dir);
    const audit = await startService({
      name: 'audit',
      script: 'services/audit/dist/main.js',
      env: { ...natsEnv('audit'), AUDIT_DB_PATH: join(dir, 'audit.sqlite'), AUDIT_STREAM_MAX_AGE_MS: String(AUDIT_MAX_AGE_MS), AUDIT_INSTANCE_ID: 'audit-a' },
    });
    extraProcesses.push(audit);
    const jsm = await jetstreamManager((await busAs('audit')).connection);
    expect((await jsm.streams.info(AUDIT_STREAM)).config.max_age).toBe(AUDIT_MAX_AGE_MS * 1_000_000);
    const log = await waitFor(
      async () => {
        const result = await callTool(client, 'system.audit_log', { limit: 100 });
        const events = (result.structuredContent as { events?: { tool: string | null; success: boolean }[] } | undefined)?.events ?? [];
        return events.some((e) => e.tool === 'qsys.set_control' && e.success) ? events : undefined;
      },
      { timeoutMs: 15_000, what: 'the gateway to read the stored events through audit.query' },
    );
    expect(log.length).toBeGreaterThan(1);
    await waitFor(async () => {
      const info = await jsm.consumers.info(AUDIT_STREAM, 'audit');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    }, { what: 'every event to be acknowledged by the audit service' });
  }, 30_000);

  it('may not write audit events, purge or delete the stream, or call a core', async () => {
    const bus = await busAs('audit');
    const jsm = await jetstreamManager(bus.connection);
    const before = (await jsm.streams.info(AUDIT_STREAM)).state.messages;
    bus.publish('audit.events.qsys.set_control', { forged: true });
    await expectRefused('Publish', 'audit', 'audit.events.qsys.set_control');
    await expect(jsm.streams.purge(AUDIT_STREAM)).rejects.toThrow();
    await expectRefused('Publish', 'audit', `$JS.API.STREAM.PURGE.${AUDIT_STREAM}`);
    await expect(jsm.streams.delete(AUDIT_STREAM)).rejects.toThrow();
    await expectRefused('Publish', 'audit', `$JS.API.STREAM.DELETE.${AUDIT_STREAM}`);
    await expect(bus.request('qsys.main.status', {}, { timeoutMs: 1000 })).rejects.toThrow();
    await expectRefused('Publish', 'audit', 'qsys.main.status');
    expect((await jsm.streams.info(AUDIT_STREAM)).state.messages).toBeGreaterThanOrEqual(before);
  });
});

describe('integration user', () => {
  it('receives the Core events on qsys.*.evt.>', async () => {
    const nc = await connectionAs('integration');
    const sub = nc.subscribe('qsys.*.evt.>');
    const got = (async () => {
      for await (const m of sub) if (m.subject === 'qsys.main.evt.controls') return m.json<{ coreId: string }>();
      return undefined;
    })();
    await nc.flush();
    await callTool(client, 'qsys.set_control', { component_name: 'Main Gain', control_name: 'gain', value: -22 });
    expect(await got).toMatchObject({ coreId: 'main' });
  });

  it('may not change a control, by request or by plain publish', async () => {
    const nc = await connectionAs('integration');
    const set = JSON.stringify({ controls: [{ component: 'Main Gain', control: 'gain', value: -33 }] });
    await expect(nc.request('qsys.main.control.set', set, { timeout: 1000 })).rejects.toThrow(/Permissions Violation/);
    // It has no reply inbox either: the request's inbox subscription is refused first.
    await expectRefused('Subscription', 'integration', /^_INBOX\./);
    nc.publish('qsys.main.control.set', set);
    await nc.flush();
    await expectRefused('Publish', 'integration', 'qsys.main.control.set');
    expect(await mainGain()).toBe(-22);
  });

  it('may not forge events, steal requests, read replies or audit events, or use JetStream', async () => {
    const nc = await connectionAs('integration');
    nc.publish('qsys.main.evt.controls', '{}');
    await expectRefused('Publish', 'integration', 'qsys.main.evt.controls');
    nc.subscribe('qsys.main.control.set', { queue: 'qsys.main' });
    await expectRefused('Subscription', 'integration', 'qsys.main.control.set');
    nc.subscribe('_INBOX_gateway.>');
    await expectRefused('Subscription', 'integration', '_INBOX_gateway.>');
    nc.subscribe('audit.events.>');
    await expectRefused('Subscription', 'integration', 'audit.events.>');
    nc.publish(AUDIT_QUERY_SUBJECT, '{}');
    await expectRefused('Publish', 'integration', AUDIT_QUERY_SUBJECT);
    nc.publish(`$JS.API.STREAM.INFO.${AUDIT_STREAM}`, '');
    await expectRefused('Publish', 'integration', `$JS.API.STREAM.INFO.${AUDIT_STREAM}`);
    nc.publish('$SRV.PING', '');
    await expectRefused('Publish', 'integration', '$SRV.PING');
  });
});

describe('the services themselves', () => {
  it('were refused nothing but what this file provoked', () => {
    const expected = (v: Violation): boolean => provoked.some((matches) => matches(v));
    // The refused connectors of core `other` also try their other subjects (each endpoint,
    // $SRV.INFO/STATS, every event kind): part of what was provoked.
    const incidental = (v: Violation): boolean => v.user === 'connector_main' && /(^|\.)other(\.|$)|qsys-connector-other/.test(v.subject);
    expect(violations().filter((v) => !expected(v) && !incidental(v))).toEqual([]);
  });
});
