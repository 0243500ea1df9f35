import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads the V8 CPU profiles (`--cpu-prof`) of a directory and prints, per profile, where the
 * time went: by package or area, and the functions with the most self and total time.
 *
 *   node test/bench/dist/profile-summary.js <dir>
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The area a frame belongs to: an npm package, a workspace package, node internals, or V8's own buckets. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const ws = /\/(libs|services)\/([^/]+)\//.exec(url);
  if (ws !== null) return `${ws[1]}/${ws[2]}`;
  if (url.startsWith('node:')) return url.split('/')[0] === 'node:internal' ? `node:internal/${url.split('/')[1] ?? ''}` : url;
  return url;
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/(node_modules|libs|services)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, totalMs: number, n: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${v.toFixed(0).padStart(7)} ms ${((v / totalMs) * 100).toFixed(1).padStart(5)} %  ${k}`);
}

/**
 * Who a sample's CPU was spent for: the innermost frame of its stack that belongs to one of these
 * owners (checked from the leaf up, so a JSON.stringify under the SDK's SSE writer is the SDK's,
 * a socket write under nats.js's flush is a NATS write). Samples with none are `other`.
 */
const OWNERS: ReadonlyArray<[owner: string, test: (frame: CallFrame) => boolean]> = [
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
  ['NATS socket writes (nats.js flush)', (f) => f.url.includes('@nats-io/') && (f.functionName === 'flushPending' || f.functionName === '_send')],
  ['NATS reads (nats.js parser, dispatch)', (f) => f.url.includes('@nats-io/') && f.functionName === 'parse'],
  ['audit event (build, publish, wait for the ack)', (f) => /\/audit\/audit-(publisher|events)|\/audit\/auditor/.test(f.url)],
  ['connector request (callCore, libs/bus, reply check)', (f) => f.functionName === 'callCore'],
  ['HTTP guard (body, JSON, auth, rate limit)', (f) => f.url.includes('/policy-http') || f.url.includes('/http-json')],
  ['tool call (validation, metrics, result)', (f) => f.url.includes('/services/gateway/') || f.url.includes('/services/standalone/')],
  ['connector handlers', (f) => f.url.includes('/services/connector/')],
  ['MCP SDK (web Request, JSON-RPC, SSE)', (f) => f.url.includes('@modelcontextprotocol/')],
  ['node:http (parse, write)', (f) => f.url.startsWith('node:_http') || f.functionName === 'parserOnHeadersComplete' || f.functionName === 'parserOnBody'],
];
/** The bus library serves several owners: its frames count for the owner above them, if any. */
const WEAK_OWNER: [owner: string, test: (frame: CallFrame) => boolean] = ['libs/bus (no owner above)', (f) => f.url.includes('/libs/bus/')];

/** The summary of one profile. */
export function summariseProfile(profile: CpuProfile, name: string, topN = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const totalMs = [...selfMs.values()].reduce((a, b) => a + b, 0);
  const idleMs = [...selfMs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
  const busyMs = totalMs - idleMs;

  const ownerSelf = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const area = areaOf(node.callFrame);
    areaSelf.set(area, (areaSelf.get(area) ?? 0) + ms);
    const fn = frameName(node.callFrame);
    fnSelf.set(fn, (fnSelf.get(fn) ?? 0) + ms);
    let owner: string | undefined;
    let weak: string | undefined;
    for (let cur: number | undefined = id; cur !== undefined && owner === undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (frame === undefined) continue;
      owner = OWNERS.find(([, test]) => test(frame))?.[0];
      if (weak === undefined && WEAK_OWNER[1](frame)) weak = WEAK_OWNER[0];
    }
    owner ??= weak ?? 'other';
    ownerSelf.set(owner, (ownerSelf.get(owner) ?? 0) + ms);
    // Total time: every distinct function on the stack of this sample gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (frame === undefined || frame.functionName === '(root)') continue;
      const key = frameName(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      fnTotal.set(key, (fnTotal.get(key) ?? 0) + ms);
    }
  }
  return [
    `### ${name}: ${busyMs.toFixed(0)} ms busy of ${totalMs.toFixed(0)} ms profiled`,
    'by owner (innermost owning frame of each sample, % of busy):',
    ...top(ownerSelf, busyMs, OWNERS.length + 2),
    'by area (self time, % of busy):',
    ...top(areaSelf, busyMs, 20),
    'functions by self time:',
    ...top(fnSelf, busyMs, topN),
    'functions by total time (self + callees):',
    ...top(fnTotal, busyMs, topN + 15),
    '',
  ].join('\n');
}

/** Summaries of every `.cpuprofile` in `dir`. */
export function summariseProfiles(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => summariseProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile, f))
    .join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.js') && process.argv[2] !== undefined) {
  console.log(summariseProfiles(process.argv[2]));
}
