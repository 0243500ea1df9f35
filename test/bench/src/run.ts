import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { coreTripsPerCall, waitLive } from './mcp.js';
import { aggregate, measure, median, type Row } from './measure.js';
import { cpuNs, freePort, hwmKb, logDir, REPO_ROOT, rssKb, startNats, startNode, type NatsProc, type Proc } from './procs.js';
import { ratios } from './ratios.js';
import { auditFigures, AuditWatch } from './audit.js';
import { idleTable, machine, machineText, table, type IdleFigures } from './report.js';
import { summariseProfiles } from './profile-summary.js';
import { runLoad, type Target } from './load.js';
import { runSoak, soakTable, type SoakProc } from './soak.js';
import type { MixEntry } from './open-loop.js';
import { compareSnapshots, heapSnapshot } from './heap-snapshot.js';
import { liveReport, measureFanOut, measureLatency, type FanOutResult, type LatencyResult } from './live.js';
import {
  busTarget,
  httpTarget,
  MCP_HEADERS,
  mcpResultOk,
  natsTarget,
  qrcNoOpTarget,
  status200,
  toolCallBody,
  type ClosableTarget,
} from './targets.js';

/**
 * `npm run bench`: starts nats-server (random port), the simulator, the split services, a
 * standalone process and the floor servers as child processes, drives load from this process
 * and prints one table of figures measured in the same run (docs/performance.md explains them).
 *
 *   node test/bench/dist/run.js [--duration 5000] [--warmup 1500] [--prewarm 3000] [--prime 1500] [--repeat 1]
 *                               [--only floors,sdk,read,standalone,replicas,write,logging,auditcost,audit,live]
 *                               [--out FILE.md] [--keep-logs] [--profile [--profile-scenario read|write16|idle]]
 *
 * `--prime MS` puts unmeasured load at concurrency 16 on each row's target for MS before its
 * warm-up and window (0: off), so that no row depends on what ran before it.
 * `--repeat N` runs the whole list N times, interleaved, and reports the median of each figure.
 * `--ab DIR_A,DIR_B` compares two built checkouts (before/after a change) on the full path;
 * `--ab-env-a` / `--ab-env-b K=V,…` add gateway variables to one side (the same checkout twice
 * with `--ab-env-b MCP_AUDIT_ENABLED=false` measures what the audit costs); `--ab-env-a` also
 * applies to the gateway of `--profile`. `--ab-node-a` / `--ab-node-b=--flag` add node flags to
 * one side's gateway.
 *
 * `--profile` runs the full read path only, with `--cpu-prof` on the gateway and the
 * connector, and prints where their CPU goes.
 *
 * The `live` section (live.ts) starts a stack of its own (two gateway replicas) after the others:
 * change → `notifications/resources/updated` latency, and many listens on one gateway.
 *
 * `--soak MS [--rate 50] [--sample 5000]` runs only the split stack with the audit service under
 * an open-loop mix of reads and writes at a fixed rate for MS and prints every service's RSS
 * and heap at start, middle and end with their slopes over the second half (soak.ts).
 */

const USAGE = `node test/bench/dist/run.js [options]    (npm run bench -- [options])
  --duration MS --warmup MS --prewarm MS --prime MS --repeat N   window lengths, repeats
  --only floors,sdk,read,standalone,replicas,write,logging,auditcost,audit,live
      (with --ab: read,write1,write16)
  --out FILE.md --keep-logs
  --live-samples N (200) --live-listeners N (1000) --live-changes N (50) --live-poll MS (100)
  --live-uris N[,N…] (1)   URIs each fan-out listen names; one fan-out per value, in order
      the live section (own stack: nats-server, simulator, connector, two gateways): a change
      made on the simulator (QRC Component.Set from another client) to the
      notifications/resources/updated of a subscriptions/listen on replica B (default
      coalescing) and on replica A (MCP_LIVE_UPDATES_COALESCE_MS=0), N samples each; then
      N listens on replica B: RSS per listener, gateway CPU per delivered notification
  --profile [--profile-scenario read|write16|idle]              --cpu-prof on gateway, connector, simulator
  --ab DIR_A,DIR_B [--ab-env-a K=V,...] [--ab-env-b ...] [--ab-node-a FLAGS] [--ab-node-b FLAGS]
      [--ab-connector-env-a K=V,...] [--ab-connector-env-b ...]   connector variables of one side
  --soak MS [--rate N] [--sample MS] [--soak-snapshots]
      memory soak: nats-server, simulator, connector, gateway and audit service under an
      open-loop mix (reads, 1- and 16-control writes) of N calls/s (default 50) for MS;
      RSS (VmRSS) and V8 heap in use (the services' /metrics) sampled every --sample MS
      (default 5000); prints start/middle/end and the least-squares slope over the second
      half, MB/min, per service. --soak-snapshots: heap snapshots of the connector at the
      middle and the end, compared by constructor (distorts the memory figures).
  --help`;

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '1500' },
    prewarm: { type: 'string', default: '3000' },
    prime: { type: 'string', default: '1500' },
    repeat: { type: 'string', default: '1' },
    only: { type: 'string' },
    out: { type: 'string' },
    profile: { type: 'boolean', default: false },
    ab: { type: 'string' },
    'ab-env-a': { type: 'string' },
    'ab-env-b': { type: 'string' },
    'ab-connector-env-a': { type: 'string' },
    'ab-connector-env-b': { type: 'string' },
    'ab-node-a': { type: 'string' },
    'ab-node-b': { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    'profile-scenario': { type: 'string', default: 'read' },
    soak: { type: 'string' },
    rate: { type: 'string', default: '50' },
    sample: { type: 'string', default: '5000' },
    'soak-snapshots': { type: 'boolean', default: false },
    'live-samples': { type: 'string', default: '200' },
    'live-listeners': { type: 'string', default: '1000' },
    'live-changes': { type: 'string', default: '50' },
    'live-uris': { type: 'string', default: '1' },
    'live-poll': { type: 'string', default: '100' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const durationMs = Number(opts.duration);
const prewarmMs = Number(opts.prewarm);
const primeMs = Number(opts.prime);
const repeat = Number(opts.repeat);
const warmupMs = Number(opts.warmup);
const only = opts.only === undefined ? undefined : new Set(opts.only.split(','));
const wanted = (section: string): boolean => only === undefined || only.has(section);

const GW_ENV = { MCP_RATE_LIMIT_ENABLED: 'false', MCP_AUTH_ENABLED: 'false', QSYS_CORE_ID: 'main', LOG_LEVEL: 'warn' };

// Bodies prebuilt once per scenario.
const READ = [toolCallBody('qsys.get_component', { component_name: 'Main Gain' })];
const WRITE_1 = [-20, -10, -30, -15].map((v) => toolCallBody('qsys.set_controls', { controls: [{ component_name: 'Main Gain', control_name: 'gain', value: v }] }));
const MIXER_16 = [
  ...[1, 2, 3, 4].map((i) => `input.${i}.gain`),
  ...[1, 2, 3, 4].flatMap((i) => [1, 2].map((o) => `input.${i}.output.${o}.gain`)),
  'output.1.gain',
  'output.2.gain',
];
const WRITE_16 = [-20, -10, -30, -15].map((v) =>
  toolCallBody('qsys.set_controls', {
    controls: [
      ...MIXER_16.map((control_name) => ({ component_name: 'Main Mixer', control_name, value: v })),
      { component_name: 'Main Mixer', control_name: 'input.1.mute', value: v < -15 },
      { component_name: 'Main Mixer', control_name: 'input.2.mute', value: v >= -15 },
    ],
  }),
);
const SDK_BODY = [toolCallBody('bench.echo', { text: 'hello' })];
const ECHO_JSON = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'qsys.get_component', arguments: { component_name: 'Main Gain' } } };

/** Concurrency of unmeasured load: the JIT warm-up and the priming of each row (`--prime MS`). */
const UNMEASURED_CONCURRENCY = 16;

const rows: Row[] = [];
const stopAll: Proc[] = [];

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Load that is not measured (JIT warm-up, priming): concurrency 16 for `durationMs`. */
async function unmeasured(makeTarget: (concurrency: number) => ClosableTarget | Promise<ClosableTarget>, durationMs: number): Promise<void> {
  const target = await makeTarget(UNMEASURED_CONCURRENCY);
  try {
    await runLoad(target, { concurrency: UNMEASURED_CONCURRENCY, warmupMs: 0, durationMs }, { onStart: () => {}, onEnd: () => {} });
  } finally {
    await target.close();
  }
}

/** Runs one scenario window and returns its row (logged as it goes). */
async function run(
  group: string,
  id: string,
  label: string,
  concurrency: number,
  makeTarget: (concurrency: number) => ClosableTarget | Promise<ClosableTarget>,
  procs: Proc[],
  extra: { note?: string; trips?: Record<string, number>; prime?: boolean } = {},
): Promise<Row> {
  if (primeMs > 0 && extra.prime !== false) {
    // Every server enters its window busy, whatever ran before it: a gateway that sat idle
    // while the floors ran cost 1.5 ms per call at concurrency 1 for the next 4 s, against
    // 0.95 ms when it was already serving (docs/performance.md, "Order effect").
    await unmeasured(makeTarget, primeMs);
  }
  const target = await makeTarget(concurrency);
  try {
    const row = await measure({ group, id, label, concurrency, target, procs, warmupMs, durationMs, ...(extra.note === undefined ? {} : { note: extra.note }) });
    if (extra.trips !== undefined) row.coreRequestsPerCall = extra.trips;
    log(
      `${group} ${label} c${concurrency}: ${row.callsPerSec.toFixed(0)}/s p50 ${row.p50.toFixed(2)} p99 ${row.p99.toFixed(2)} ms, CPU ${row.cpuTotalMsPerCall.toFixed(3)} ms/call ` +
        `(${Object.entries(row.cpuMsPerCall).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')})${row.errors > 0 ? `, ${row.errors} errors: ${row.firstError}` : ''}`,
    );
    return row;
  } finally {
    await target.close();
  }
}

const mcp = (urls: string[], bodies: Buffer[]) => (concurrency: number): ClosableTarget =>
  httpTarget({ urls, bodies, headers: MCP_HEADERS, concurrency, check: mcpResultOk });

/** Unmeasured load (JIT warm-up) on one endpoint. */
async function warm(url: string, bodies: Buffer[]): Promise<void> {
  await unmeasured(mcp([url], bodies), prewarmMs);
}

/** One sequential call through a fresh target (for the exact Core round-trip counts). */
async function sequential(target: Target & { close(): Promise<void> }, n: number, adminUrl: string): Promise<Record<string, number>> {
  try {
    return await coreTripsPerCall(adminUrl, () => target.call(0), n);
  } finally {
    await target.close();
  }
}

async function idleFigures(procs: Proc[], quietMs: number): Promise<IdleFigures[]> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const before = procs.map((p) => cpuNs(p.pid));
  await new Promise((resolve) => setTimeout(resolve, quietMs));
  return procs.map((p, i) => ({
    name: p.name,
    idleRssMb: rssKb(p.pid) / 1024,
    idleCpuMsPerSec: (cpuNs(p.pid) - (before[i] ?? 0)) / 1e6 / (quietMs / 1000),
  }));
}

/**
 * Starts a gateway (or the standalone process) on a port chosen here: at LOG_LEVEL=warn it
 * prints no ready line, so readiness is `GET /livez`.
 */
async function startGateway(
  name: string,
  env: Record<string, string>,
  options: { nodeArgs?: string[]; script?: string; root?: string } = {},
): Promise<Proc & { url: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = await startNode({
    name,
    script: options.script ?? 'services/gateway/dist/main.js',
    nodeArgs: options.nodeArgs ?? [],
    ...(options.root === undefined ? {} : { root: options.root }),
    env: { ...GW_ENV, MCP_HTTP_PORT: String(port), ...env },
    readyUrl: `${base}/livez`,
  });
  stopAll.push(proc);
  return { ...proc, url: `${base}/mcp` };
}

/** Options of {@link startSplit}. */
interface SplitOptions {
  nats: NatsProc;
  /** Checkout whose built services run. @default REPO_ROOT */
  root?: string;
  /** Core id of this stack's connector, also its gateway's default core. @default 'main' */
  coreId?: string;
  nodeArgs?: string[];
  /** Extra variables of the gateway (`MCP_AUDIT_ENABLED=false`, `LOG_LEVEL=info`). */
  gatewayEnv?: Record<string, string>;
  /** Extra node flags of the gateway (`--min-semi-space-size=16`). */
  gatewayNodeArgs?: string[];
  /** Extra node flags of the connector (`--heapsnapshot-signal=SIGUSR2`). */
  connectorNodeArgs?: string[];
  /** Extra variables of the connector (`QSYS_POLL_RATE_MS`). */
  connectorEnv?: Record<string, string>;
}

/** The simulator, a connector and a gateway over the given nats-server, the Core live. */
async function startSplit(options: SplitOptions) {
  const { nats } = options;
  const nodeArgs = options.nodeArgs ?? [];
  const coreId = options.coreId ?? 'main';
  const at = options.root === undefined ? {} : { root: options.root };
  // The simulator and the connector log at info (their default): nothing per call, and the
  // ready line the ports are read from.
  const sim = await startNode({ name: 'sim', script: 'services/qsys-sim/dist/main.js', ...at, nodeArgs, env: { SIM_WS_PORT: '0', SIM_TCP_PORT: 'off', SIM_ADMIN_PORT: '0', LOG_LEVEL: 'info' } });
  stopAll.push(sim);
  const simWsUrl = String(sim.ready.wsUrl);
  const simPort = String(sim.ready.wsPort);
  const adminUrl = String(sim.ready.adminUrl);
  const connector = await startNode({
    name: 'connector',
    script: 'services/connector/dist/main.js',
    ...at,
    nodeArgs: [...nodeArgs, ...(options.connectorNodeArgs ?? [])],
    env: { NATS_URL: nats.url, QSYS_CORE_ID: coreId, QSYS_HOST: '127.0.0.1', QSYS_PORT: simPort, QSYS_SECURE: 'false', LOG_LEVEL: 'info', ...options.connectorEnv },
  });
  stopAll.push(connector);
  const gateway = await startGateway('gateway', { NATS_URL: nats.url, GATEWAY_INSTANCE_ID: `gw-${coreId}`, QSYS_CORE_ID: coreId, ...options.gatewayEnv }, { nodeArgs: [...nodeArgs, ...(options.gatewayNodeArgs ?? [])], ...at });
  const gwUrl = gateway.url;
  await waitLive(gwUrl);
  return { nats, sim, simWsUrl, simPort, adminUrl, connector, gateway, gwUrl };
}

async function startStack(profileDir?: string, gatewayEnv: Record<string, string> = {}) {
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const nats = await startNats();
  stopAll.push(nats);
  return startSplit({ nats, nodeArgs, gatewayEnv });
}

/** `K=V,K=V` as an environment object. */
function parseEnv(text: string | undefined): Record<string, string> {
  if (text === undefined || text === '') return {};
  return Object.fromEntries(text.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

/**
 * A/B: the same split stack from two checkouts (each with its own simulator, connector and
 * gateway, over one nats-server), scenarios run alternately A, B then B, A, so that drift on
 * a shared machine hits both alike. Prints both rows and B ÷ A for every figure.
 */
async function abMode(roots: string[]): Promise<void> {
  const m = machine();
  const nats = await startNats();
  stopAll.push(nats);
  const names: string[] = roots.map((r, i) => `${'ab'[i] ?? i}:${r.replace(/\/+$/, '').split('/').pop()}`);
  const stacks = [];
  const envs = [parseEnv(opts['ab-env-a']), parseEnv(opts['ab-env-b'])];
  const flags = [opts['ab-node-a'], opts['ab-node-b']].map((f) => (f === undefined || f === '' ? [] : f.split(' ')));
  for (const [i, root] of roots.entries()) stacks.push(await startSplit({ nats, root, coreId: i === 0 ? 'main' : `alt${i}`, gatewayEnv: envs[i] ?? {}, gatewayNodeArgs: flags[i] ?? [], connectorEnv: parseEnv(opts[i === 0 ? 'ab-connector-env-a' : 'ab-connector-env-b']) }));
  flags.forEach((f, i) => {
    if (f.length > 0 && names[i] !== undefined) names[i] = `${names[i]} node ${f.join(' ')}`;
  });
  envs.forEach((env, i) => {
    if (Object.keys(env).length > 0 && names[i] !== undefined) names[i] = `${names[i]} ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  });
  for (const st of stacks) for (const bodies of [READ, WRITE_1, WRITE_16]) await warm(st.gwUrl, bodies);
  const allScenarios: Array<[string, string, number, Buffer[]]> = [
    ['read', 'full path read: get_component', 1, READ],
    ['read', 'full path read: get_component', 16, READ],
    ['read', 'full path read: get_component', 64, READ],
    ['write1', 'full path write: set_controls, 1 control', 16, WRITE_1],
    ['write16', 'full path write: set_controls, 16 controls', 1, WRITE_16],
    ['write16', 'full path write: set_controls, 16 controls', 16, WRITE_16],
  ];
  const scenarios = allScenarios.filter(([id]) => only === undefined || only.has(id));
  const all: Row[] = [];
  for (let round = 1; round <= repeat; round++) {
    log(`--- round ${round} of ${repeat}`);
    for (const [id, label, c, bodies] of scenarios) {
      const order = round % 2 === 1 ? stacks.map((_, i) => i) : stacks.map((_, i) => i).reverse();
      for (const i of order) {
        const st = stacks[i]!;
        all.push(await run(names[i]!, `${id}-c${c}-${i}`, `${label} [${names[i]}]`, c, mcp([st.gwUrl], bodies), [st.gateway, st.connector, nats, st.sim]));
      }
    }
  }
  const agg = aggregate(all);
  const lines = ['| scenario | conc | figure | ' + names.join(' | ') + ' | B ÷ A |', '|---|--:|---|' + names.map(() => '--:|').join('') + '--:|'];
  for (const [id, label, c] of scenarios) {
    const rs = stacks.map((_, i) => agg.find((r) => r.id === `${id}-c${c}-${i}`));
    const a = rs[0];
    const b = rs[1];
    if (a === undefined || b === undefined) continue;
    const fig = (name: string, pick: (r: Row) => number, digits: number): void => {
      lines.push(`| ${label} | ${c} | ${name} | ${rs.map((r) => (r === undefined ? '–' : pick(r).toFixed(digits))).join(' | ')} | ${(pick(b) / pick(a)).toFixed(2)} |`);
    };
    fig('calls/s', (r) => r.callsPerSec, 0);
    fig('p50 ms', (r) => r.p50, 2);
    fig('p99 ms', (r) => r.p99, 2);
    for (const proc of ['gateway', 'connector', 'nats', 'sim']) fig(`${proc} CPU ms/call`, (r) => r.cpuMsPerCall[proc] ?? Number.NaN, 3);
    fig('total CPU ms/call', (r) => r.cpuTotalMsPerCall, 3);
    // B ÷ A of each round (the two windows run back to back), which drift between rounds does not move.
    const perRound = (pick: (r: Row) => number): number[] => {
      const wa = all.filter((w) => w.id === `${id}-c${c}-0`);
      const wb = all.filter((w) => w.id === `${id}-c${c}-1`);
      return wa.map((w, k) => (wb[k] === undefined ? Number.NaN : pick(wb[k]) / pick(w))).filter(Number.isFinite).sort((x, y) => x - y);
    };
    for (const proc of ['gateway', 'connector']) {
      const gw = perRound((r) => r.cpuMsPerCall[proc] ?? Number.NaN);
      if (gw.length > 0) {
        const ci = medianInterval(gw);
        const interval = ci === undefined ? '' : `; ${ci.coverage.toFixed(1)} % interval of the median ${ci.low.toFixed(2)}–${ci.high.toFixed(2)}`;
        lines.push(`| ${label} | ${c} | ${proc} CPU ms/call, B ÷ A of each round: median (min–max; interval; rounds) | | | ${median(gw).toFixed(2)} (${gw[0]!.toFixed(2)}–${gw.at(-1)!.toFixed(2)}${interval}; ${gw.map((x) => x.toFixed(2)).join(' ')}) |`);
      }
    }
    const other = [0, 1].map((i) => all.filter((w) => w.id === `${id}-c${c}-${i}`).map((w) => w.otherCores));
    lines.push(`| ${label} | ${c} | other load, cores (median of the windows) | ${other.map((o) => median(o).toFixed(2)).join(' | ')} | |`);
  }
  const text = [
    '## Machine',
    machineText(m),
    '',
    `A/B: ${roots.join(' vs ')}. Windows of ${durationMs} ms after ${warmupMs} ms of warm-up, ${repeat} rounds (A,B then B,A); medians.`,
    '',
    lines.join('\n'),
    '',
    '## Windows',
    table(all),
    '',
  ].join('\n');
  console.log(text);
  if (opts.out !== undefined) writeFileSync(opts.out, text);
}

/**
 * A distribution-free interval of the median of `sorted` (ascending): the k-th smallest and the
 * k-th largest value for the largest k whose coverage, 1 − 2·P(Bin(n, ½) < k), is at least 95 %.
 * Undefined when n is too small for that (n < 6).
 */
function medianInterval(sorted: readonly number[]): { low: number; high: number; coverage: number } | undefined {
  const n = sorted.length;
  let best: { k: number; coverage: number } | undefined;
  let below = 0; // P(X < k), X ~ Bin(n, 1/2)
  let choose = 1; // C(n, k - 1)
  for (let k = 1; k <= Math.floor(n / 2); k++) {
    below += choose / 2 ** n;
    choose = (choose * (n - k + 1)) / k;
    if (1 - 2 * below >= 0.95) best = { k, coverage: 1 - 2 * below };
  }
  if (best === undefined) return undefined;
  return { low: sorted[best.k - 1]!, high: sorted[n - best.k]!, coverage: best.coverage * 100 };
}

/** Starts the audit service (SQLite in the run's temporary directory) over `natsUrl`, or undefined when it is not built. */
async function startAuditService(natsUrl: string): Promise<Proc | undefined> {
  const script = 'services/audit/dist/main.js';
  if (!existsSync(join(REPO_ROOT, script))) return undefined;
  const proc = await startNode({ name: 'audit', script, env: { NATS_URL: natsUrl, AUDIT_DB_PATH: join(await logDir(), 'audit.sqlite'), LOG_LEVEL: 'info' } });
  stopAll.push(proc);
  return proc;
}

/** The soak's mix, 16 calls in turn: 8 reads, 4 one-control writes, 4 sixteen-control writes (values cycling). */
const SOAK_MIX: MixEntry[] = [0, 1, 2, 3].flatMap((i) => [
  { kind: 'read', body: READ[0]! },
  { kind: 'write1', body: WRITE_1[i]! },
  { kind: 'read', body: READ[0]! },
  { kind: 'write16', body: WRITE_16[i]! },
]);

/** `--soak MS`: memory of every service of the split stack under a fixed rate of calls. */
async function soakMode(soakMs: number): Promise<void> {
  const m = machine();
  const rate = Number(opts.rate);
  const sampleMs = Number(opts.sample);
  log(`machine: ${JSON.stringify(m)}\nlogs in ${await logDir()}`);
  const snapshotDir = join(await logDir(), 'heap');
  const stack = await startSplit({
    nats: await startNats(),
    ...(opts['soak-snapshots'] ? { connectorNodeArgs: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] } : {}),
  });
  stopAll.push(stack.nats);
  const audit = await startAuditService(stack.nats.url);
  const procs: SoakProc[] = [
    { proc: stack.gateway, metricsUrl: stack.gwUrl.replace(/\/mcp$/, '/metrics') },
    { proc: stack.connector, metricsUrl: `http://127.0.0.1:${String(stack.connector.ready.healthPort)}/metrics` },
    ...(audit === undefined ? [] : [{ proc: audit, metricsUrl: `http://127.0.0.1:${String(audit.ready.healthPort)}/metrics` }]),
    { proc: stack.sim },
    { proc: stack.nats },
  ];
  const snapshots: string[] = [];
  const snapshot = async (): Promise<void> => {
    mkdirSync(snapshotDir, { recursive: true });
    snapshots.push(await heapSnapshot(stack.connector, snapshotDir, `http://127.0.0.1:${String(stack.connector.ready.healthPort)}/livez`));
    log(`connector heap snapshot: ${snapshots.at(-1)}`);
  };
  log(`soak: ${rate} calls/s for ${soakMs} ms, memory every ${sampleMs} ms`);
  const result = await runSoak({
    procs,
    url: stack.gwUrl,
    mix: SOAK_MIX,
    ratePerSec: rate,
    durationMs: soakMs,
    sampleMs,
    log,
    ...(opts['soak-snapshots'] ? { atMiddle: snapshot } : {}),
  });
  if (opts['soak-snapshots']) await snapshot();
  const text = [
    '## Machine',
    machineText(m),
    '',
    `Soak: open loop, ${rate} calls/s for ${soakMs / 1000} s through one gateway (mix in turn: 8 get_component, 4 set_controls of 1 control, 4 of 16 controls); ` +
      `RSS from /proc/<pid>/status VmRSS and heap in use from each Node service's /metrics (process_memory_usage_bytes{type="heap_used"}), every ${sampleMs / 1000} s; ` +
      `start = before the first call, slopes = least squares over the samples of the second half.${opts['soak-snapshots'] ? ' Heap snapshots of the connector were taken at the middle and the end (they raise its RSS).' : ''}`,
    '',
    soakTable(result),
    '',
    ...(snapshots.length === 2 ? ['## Connector heap, end against middle (objects by constructor)', compareSnapshots(snapshots[0]!, snapshots[1]!), ''] : []),
  ].join('\n');
  console.log(text);
  const resultsDir = join(REPO_ROOT, 'test/bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = `soak-${m.date.replace(/[:.]/g, '-')}`;
  writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ machine: m, rate, soakMs, sampleMs, load: result.load, samples: result.samples }, null, 2));
  writeFileSync(join(resultsDir, `${stamp}.md`), text);
  if (opts.out !== undefined) writeFileSync(opts.out, text);
  log(`results in test/bench/results/${stamp}.{json,md}`);
}

/** The gateway's `MCP_LIVE_UPDATES_COALESCE_MS` default (services/gateway/src/event-bus.ts), for the pacing of the changes. */
const DEFAULT_COALESCE_MS = 250;

/**
 * The `live` section (live.ts): nats-server, the simulator, a connector with the AutoPoll period
 * of `--live-poll`, gateway A (`MCP_LIVE_UPDATES_COALESCE_MS=0`) and gateway B (the default
 * coalescing). Latency of a change made on the simulator to a listen on B, then on A; then
 * `--live-listeners` listens on B.
 */
async function liveMode(): Promise<void> {
  const m = machine();
  log(`machine: ${JSON.stringify(m)}\nlogs in ${await logDir()}`);
  const pollRateMs = Number(opts['live-poll']);
  const samples = Number(opts['live-samples']);
  const nats = await startNats();
  stopAll.push(nats);
  const stack = await startSplit({ nats, gatewayEnv: { MCP_LIVE_UPDATES_COALESCE_MS: '0' }, connectorEnv: { QSYS_POLL_RATE_MS: String(pollRateMs) } });
  const gatewayA = { ...stack.gateway, name: 'gateway A' };
  const gatewayB = { ...(await startGateway('gateway B', { NATS_URL: nats.url, GATEWAY_INSTANCE_ID: 'gw-b' })), name: 'gateway B' };
  await waitLive(gatewayB.url);
  const procs = [gatewayA, gatewayB, stack.connector, nats, stack.sim];
  const common = { simWsUrl: stack.simWsUrl, natsUrl: nats.url, core: 'main', component: 'Main Gain', control: 'gain', pollRateMs, procs, log };
  const latency: LatencyResult[] = [];
  for (const [gateway, coalesceMs] of [[gatewayB, DEFAULT_COALESCE_MS], [gatewayA, 0]] as const) {
    // JIT warm-up of the path, not reported.
    await measureLatency({ ...common, gateway, coalesceMs, samples: 20 });
    const r = await measureLatency({ ...common, gateway, coalesceMs, samples });
    log(`live latency on ${gateway.name} (coalesce ${coalesceMs} ms): p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} ms, ${r.samples} samples, ${r.missed} missed`);
    latency.push(r);
  }
  const fanOut: FanOutResult[] = [];
  const listeners = Number(opts['live-listeners']);
  if (listeners > 0) {
    for (const urisPerListen of opts['live-uris'].split(',').map(Number)) {
      const r = await measureFanOut({ ...common, gateway: gatewayB, coalesceMs: DEFAULT_COALESCE_MS, listeners, urisPerListen, changes: Number(opts['live-changes']) });
      log(`live fan-out: ${JSON.stringify(r)}`);
      fanOut.push(r);
    }
  }
  const text = ['## Machine', machineText(m), '', '## Live updates', liveReport(latency, fanOut, pollRateMs), ''].join('\n');
  console.log(text);
  const resultsDir = join(REPO_ROOT, 'test/bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = `live-${m.date.replace(/[:.]/g, '-')}`;
  writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ machine: m, pollRateMs, samples, latency, fanOut }, null, 2));
  writeFileSync(join(resultsDir, `${stamp}.md`), text);
  if (opts.out !== undefined) writeFileSync(opts.out.replace(/(\.md)?$/, '-live.md'), text);
  log(`results in test/bench/results/${stamp}.{json,md}`);
}

async function profileMode(): Promise<void> {
  const dir = join(REPO_ROOT, 'test/bench/profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  const stack = await startStack(dir, parseEnv(opts['ab-env-a']));
  const split = [stack.gateway, stack.connector, stack.nats, stack.sim];
  const scenario = opts['profile-scenario'];
  if (scenario === 'idle') {
    // No load: what the services do on their own (AutoPoll, keepalives, lease, metrics).
    const procs = [stack.gateway, stack.connector, stack.nats, stack.sim];
    const idle = await idleFigures(procs, durationMs);
    console.log(idleTable(idle));
  } else await warm(stack.gwUrl, scenario === 'write16' ? WRITE_16 : READ);
  if (scenario === 'idle') {
    // measured above
  } else if (scenario === 'write16') rows.push(await run('4', 'write16-c16', 'set_controls, 16 controls (profiled)', 16, mcp([stack.gwUrl], WRITE_16), split));
  else rows.push(await run('3', 'read-c16', 'get_component, split (profiled)', 16, mcp([stack.gwUrl], READ), split));
  // The profiles are written when the processes exit.
  await stack.gateway.stop();
  await stack.connector.stop();
  await stack.sim.stop();
  if (rows.length > 0) console.log(table(rows));
  console.log(`\nprofiles in ${dir}\n`);
  console.log(summariseProfiles(dir));
}

async function benchMode(): Promise<void> {
  const m = machine();
  log(`machine: ${JSON.stringify(m)}\nlogs in ${await logDir()}`);
  const stack = await startStack();
  const { nats, sim, adminUrl, connector, gateway, gwUrl } = stack;

  // The audit service consumes the gateway's events (one per tool call) from the AUDIT stream.
  const auditRunnable = existsSync(join(REPO_ROOT, 'services/audit/dist/main.js'));
  const startAudit = async (): Promise<Proc> => (await startAuditService(nats.url))!;
  let audit = auditRunnable ? await startAudit() : undefined;
  const auditWatch = auditRunnable ? await AuditWatch.open(nats.url) : undefined;

  const gatewayB = await startGateway('gateway-b', { NATS_URL: nats.url, GATEWAY_INSTANCE_ID: 'gw-b' });
  const gatewayInfo = await startGateway('gateway', { NATS_URL: nats.url, GATEWAY_INSTANCE_ID: 'gw-info', LOG_LEVEL: 'info' });
  const gatewayNoAudit = await startGateway('gateway', { NATS_URL: nats.url, GATEWAY_INSTANCE_ID: 'gw-noaudit', MCP_AUDIT_ENABLED: 'false' });
  const standalone = await startGateway(
    'standalone',
    { QSYS_HOST: '127.0.0.1', QSYS_PORT: stack.simPort, QSYS_SECURE: 'false', AUDIT_DB_PATH: join(await logDir(), 'standalone-audit.sqlite') },
    { script: 'services/standalone/dist/main.js' },
  );
  const saUrl = standalone.url;
  const standaloneNoAudit = await startGateway(
    'standalone',
    { QSYS_HOST: '127.0.0.1', QSYS_PORT: stack.simPort, QSYS_SECURE: 'false', MCP_AUDIT_ENABLED: 'false', AUDIT_DB_PATH: join(await logDir(), 'standalone-noaudit.sqlite') },
    { script: 'services/standalone/dist/main.js' },
  );
  await waitLive(saUrl);
  const sdk = await startNode({ name: 'sdk-floor', script: 'test/bench/dist/servers/sdk-floor.js' });
  stopAll.push(sdk);
  const sdkParsed = await startNode({ name: 'sdk-parsed', script: 'test/bench/dist/servers/sdk-floor.js', env: { SDK_BODY: 'parsed' } });
  stopAll.push(sdkParsed);
  const sdkHigh = await startNode({ name: 'sdk-mcpserver', script: 'test/bench/dist/servers/sdk-floor.js', env: { SDK_FLOOR: 'mcpserver' } });
  stopAll.push(sdkHigh);

  // 8. Idle figures of every service: started, connected, the Core live, before any load.
  const idleProcs = [gateway, connector, sim, nats, standalone, ...(audit === undefined ? [] : [audit])];
  const idle = await idleFigures(idleProcs, 3000);
  log(`idle: ${JSON.stringify(idle)}`);

  // JIT warm-up of every HTTP server on the paths it will serve, so that no row pays for it.
  for (const [url, bodies] of [
    [gwUrl, READ], [gwUrl, WRITE_1], [gwUrl, WRITE_16], [gatewayB.url, READ], [gatewayInfo.url, READ], [gatewayNoAudit.url, READ], [saUrl, READ], [standaloneNoAudit.url, READ],
    [String(sdk.ready.url), SDK_BODY], [String(sdkParsed.ready.url), SDK_BODY], [String(sdkHigh.ready.url), SDK_BODY],
  ] as const) await warm(url, [...bodies]);


  // The split stack's processes; the audit service is part of it (it persists every call).
  const split = [gateway, connector, nats, sim, ...(audit === undefined ? [] : [audit])];
  const alone = [standalone, sim];

  // The floor servers run for the whole benchmark (idle they cost nothing measurable).
  const echo = await startNode({ name: 'http-echo', script: 'test/bench/dist/servers/http-echo.js' });
  stopAll.push(echo);
  const raw = await startNode({ name: 'nats-echo', script: 'test/bench/dist/servers/nats-echo.js', env: { NATS_URL: nats.url, ECHO_MODE: 'raw' } });
  stopAll.push(raw);
  const bus = await startNode({ name: 'bus-echo', script: 'test/bench/dist/servers/nats-echo.js', env: { NATS_URL: nats.url, ECHO_MODE: 'bus' } });
  stopAll.push(bus);
  const echoBody = [Buffer.from(JSON.stringify(ECHO_JSON))];
  const natsPayload = Buffer.from(JSON.stringify(ECHO_JSON.params.arguments));

  // 0 Core round trips for a read, 1 Component.Set for 16 controls: counted exactly first.
  const readTrips = await sequential(mcp([gwUrl], READ)(1), 200, adminUrl);
  const write1Trips = await sequential(mcp([gwUrl], WRITE_1)(1), 200, adminUrl);
  const write16Trips = await sequential(mcp([gwUrl], WRITE_16)(1), 200, adminUrl);
  const saReadTrips = await sequential(mcp([saUrl], READ)(1), 200, adminUrl);
  log(`Core requests per call: read ${JSON.stringify(readTrips)}, write1 ${JSON.stringify(write1Trips)}, write16 ${JSON.stringify(write16Trips)}, standalone read ${JSON.stringify(saReadTrips)}`);

  type Step = { section: string; go: () => Promise<Row> };
  const steps: Step[] = [];
  const add = (section: string, go: () => Promise<Row>): void => {
    if (wanted(section)) steps.push({ section, go });
  };
  // 1. Floors.
  for (const c of [1, 16]) {
    add('floors', () => run('1', `http-echo-c${c}`, 'floor: bare node:http JSON echo', c, (n) => httpTarget({ urls: [String(echo.ready.url)], bodies: echoBody, headers: { 'content-type': 'application/json' }, concurrency: n, check: status200 }), [echo]));
    add('floors', () => run('1', `nats-raw-c${c}`, 'floor: raw NATS request-reply echo', c, () => natsTarget(nats.url, 'bench.echo', natsPayload), [raw, nats]));
    add('floors', () => run('1', `nats-bus-c${c}`, 'floor: NATS request-reply through libs/bus', c, () => busTarget(nats.url, 'bench.bus.echo', ECHO_JSON.params.arguments), [bus, nats]));
    add('floors', () => run('1', `qrc-noop-c${c}`, 'floor: raw QRC NoOp round trip to the simulator', c, () => qrcNoOpTarget(stack.simWsUrl), [sim]));
  }
  // 2, 3, 5 interleaved per concurrency, so that drift on a shared machine hits all three alike.
  for (const c of [1, 16, 64]) {
    add('sdk', () => run('2', `sdkp-c${c}`, 'MCP SDK stateless floor: low-level Server, trivial tool, body pre-parsed (as the gateway)', c, mcp([String(sdkParsed.ready.url)], SDK_BODY), [sdkParsed]));
    add('sdk', () => run('2', `sdk-c${c}`, 'MCP SDK stateless floor: low-level Server, trivial tool, SDK reads the body', c, mcp([String(sdk.ready.url)], SDK_BODY), [sdk]));
    add('read', () => run('3', `read-c${c}`, 'full path read: get_component, split over NATS', c, mcp([gwUrl], READ), split, { trips: readTrips }));
    add('standalone', () => run('5', `standalone-c${c}`, 'full path read: get_component, standalone (in-memory bus)', c, mcp([saUrl], READ), alone, { trips: saReadTrips }));
  }
  add('sdk', () => run('2', 'sdk-mcpserver-c16', 'MCP SDK stateless floor: McpServer + registerTool (zod), built per request', 16, mcp([String(sdkHigh.ready.url)], SDK_BODY), [sdkHigh]));
  // 6. Two replicas versus one at concurrency 64, back to back.
  add('replicas', () => run('6', 'replicas2-c64', 'full path read, two gateway replicas (32 connections each)', 64, mcp([gwUrl, gatewayB.url], READ), [gateway, gatewayB, connector, nats, sim]));
  add('replicas', () => run('6', 'replicas1-c64', 'full path read, one gateway (back to back with the row above)', 64, mcp([gwUrl], READ), split));
  // 4. Writes.
  for (const c of [1, 16]) add('write', () => run('4', `write1-c${c}`, 'full path write: set_controls, 1 control', c, mcp([gwUrl], WRITE_1), split, { trips: write1Trips }));
  for (const c of [1, 16]) add('write', () => run('4', `write16-c${c}`, 'full path write: set_controls, 16 controls of one component', c, mcp([gwUrl], WRITE_16), split, { trips: write16Trips }));
  // Audit cost in the gateway: the same read through a gateway with MCP_AUDIT_ENABLED=false.
  for (const c of [1, 16]) {
    add('auditcost', () => run('3', `read-noaudit-c${c}`, 'full path read, gateway with MCP_AUDIT_ENABLED=false (no event published)', c, mcp([gatewayNoAudit.url], READ), [gatewayNoAudit, connector, nats, sim]));
    add('auditcost', () => run('3', `read-audit-c${c}`, 'full path read, gateway with audit on (back to back with the row above)', c, mcp([gwUrl], READ), split));
    add('auditcost', () => run('5', `standalone-noaudit-c${c}`, 'full path read, standalone with MCP_AUDIT_ENABLED=false', c, mcp([standaloneNoAudit.url], READ), [standaloneNoAudit, sim]));
  }
  // Logging cost: the same read through a gateway at LOG_LEVEL=info (one line per tool call).
  add('logging', () => run('3', 'read-info-c16', 'full path read, gateway LOG_LEVEL=info (one log line per call)', 16, mcp([gatewayInfo.url], READ), [gatewayInfo, connector, nats, sim]));
  add('logging', () => run('3', 'read-warn-c16', 'full path read, gateway LOG_LEVEL=warn (back to back with the row above)', 16, mcp([gwUrl], READ), split));

  const all: Row[] = [];
  for (let round = 1; round <= repeat; round++) {
    log(`--- round ${round} of ${repeat}`);
    for (const step of steps) all.push(await step.go());
  }
  rows.push(...aggregate(all));

  // 7. Audit: the consumer's rate and lag while scenario 3 runs, then a backlog drained.
  if (audit !== undefined && auditWatch !== undefined && wanted('audit')) {
    const running = audit;
    for (let round = 1; round <= repeat; round++) {
      const w = auditWatch.watch(250);
      // Not primed: the consumer's figures cover exactly the events of this window.
      const row = await run('7', 'audit-c16', 'audit service consuming while scenario 3 runs (read)', 16, mcp([gwUrl], READ), split, { prime: false });
      const figures = auditFigures(await w.stop());
      row.audit = { ...figures, drainMs: await auditWatch.drained() };
      all.push(row);
    }
    // A backlog: the service stopped while the gateway keeps publishing, then started again.
    await running.stop();
    stopAll.splice(stopAll.indexOf(running), 1);
    const stoppedRow = await run('7', 'audit-stopped-c64', 'full path read with the audit service stopped (events wait in the stream)', 64, mcp([gwUrl], READ), [gateway, connector, nats, sim]);
    all.push(stoppedRow);
    const backlog = (await auditWatch.sample(Date.now())).lag;
    const t0 = Date.now();
    const restarted = await startAudit();
    const readyMs = Date.now() - t0;
    const cpu0 = cpuNs(restarted.pid);
    const drainMs = await auditWatch.drained(120_000);
    const cpuMs = (cpuNs(restarted.pid) - cpu0) / 1e6;
    audit = restarted;
    const i = idleProcs.findIndex((p) => p.name === 'audit');
    if (i !== -1) idleProcs[i] = restarted;
    all.push({
      group: '7', id: 'audit-backlog', label: 'audit service draining a backlog', concurrency: 0, calls: backlog, errors: 0,
      callsPerSec: backlog / (drainMs / 1000), p50: Number.NaN, p95: Number.NaN, p99: Number.NaN,
      cpuMsPerCall: { audit: cpuMs / Math.max(1, backlog) }, cpuTicksMsPerCall: {}, cpuTotalMsPerCall: cpuMs / Math.max(1, backlog),
      peakRssMb: { audit: rssKb(restarted.pid) / 1024 }, clientCpuMsPerCall: Number.NaN, otherCores: Number.NaN,
      note: `${backlog} events left by the row above, written in ${drainMs} ms after the service was ready (start-up ${readyMs} ms): calls/s = events persisted/s, CPU per event`,
    });
    rows.splice(0, rows.length, ...aggregate(all));
  } else {
    rows.push({
      group: '7', id: 'audit', label: 'audit: events persisted/s into SQLite, consumer lag under scenario 3', concurrency: 0, calls: 0, errors: 0,
      callsPerSec: Number.NaN, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, cpuMsPerCall: {}, cpuTicksMsPerCall: {}, cpuTotalMsPerCall: Number.NaN,
      peakRssMb: {}, clientCpuMsPerCall: Number.NaN, otherCores: Number.NaN,
      note: auditRunnable ? 'not run (--only)' : 'not measured: the audit service (services/audit) has no runnable process in this checkout',
    });
  }
  await auditWatch?.close();

  // 8. RSS under load: the highest sample of each service across the scenarios; idle again after.
  const after = await idleFigures(idleProcs, 3000);
  for (const i of idle) {
    const later = after.find((a) => a.name === i.name);
    if (later !== undefined) i.afterLoadRssMb = later.idleRssMb;
    const samples = rows.map((r) => r.peakRssMb[i.name]).filter((v): v is number => v !== undefined);
    if (samples.length > 0) i.loadRssMb = Math.max(...samples);
    const proc = idleProcs.find((p) => p.name === i.name);
    if (proc !== undefined) i.hwmMb = hwmKb(proc.pid) / 1024;
  }

  const text = [
    '## Machine',
    machineText(m),
    '',
    `Windows of ${durationMs} ms after ${warmupMs} ms of warm-up, each server JIT-warmed for ${prewarmMs} ms first` +
      `${primeMs > 0 ? ` and primed with ${primeMs} ms of unmeasured load at concurrency ${UNMEASURED_CONCURRENCY} before each row (the audit consumer rows excepted)` : ''}; closed loop; latencies exact (sorted); ` +
      `CPU from /proc/<pid>/task/*/schedstat. ${repeat > 1 ? `Every scenario ran ${repeat} times, interleaved; each figure is the median of its ${repeat} windows (peak RSS: the highest).` : ''}`,
    '',
    '## Scenarios',
    table(rows),
    '',
    '## Idle and under-load RSS (scenario 8)',
    idleTable(idle),
    '',
    '## Ratios and targets',
    ratios(rows, idle),
    '',
  ].join('\n');
  console.log(text);
  const resultsDir = join(REPO_ROOT, 'test/bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = m.date.replace(/[:.]/g, '-');
  writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ machine: m, durationMs, warmupMs, prewarmMs, repeat, rows, windows: all, idle }, null, 2));
  writeFileSync(join(resultsDir, `${stamp}.md`), text);
  if (opts.out !== undefined) writeFileSync(opts.out, text);
  log(`results in test/bench/results/${stamp}.{json,md}`);
}

try {
  if (opts.soak !== undefined) await soakMode(Number(opts.soak));
  else if (opts.profile) await profileMode();
  else if (opts.ab !== undefined) await abMode(opts.ab.split(','));
  else {
    const others = only === undefined || [...only].some((section) => section !== 'live');
    if (others) await benchMode();
    if (wanted('live')) {
      // The live section runs on a stack of its own, with nothing else running.
      for (const p of stopAll.splice(0).reverse()) await p.stop(5000);
      await liveMode();
    }
  }
} finally {
  for (const p of stopAll.reverse()) await p.stop(5000);
  // Process logs, the JetStream store and the SQLite files of the run.
  if (opts['keep-logs']) log(`logs kept in ${await logDir()}`);
  else await rm(await logDir(), { recursive: true, force: true });
}
