import type { Row } from './measure.js';
import type { IdleFigures } from './report.js';

/** The ratios the issue asks for and the targets, from the rows of one run. */
export function ratios(rows: readonly Row[], idle: readonly IdleFigures[]): string {
  const by = new Map(rows.map((r) => [r.id, r]));
  const out: string[] = [];
  const fmt = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**');

  out.push('| what | figure | target | verdict |', '|---|---|---|---|');
  const floors = [
    ['sdkp', 'sdk-parsed', 'body pre-parsed as the gateway does'],
    ['sdk', 'sdk-floor', 'SDK reads the body'],
  ] as const;
  for (const [prefix, proc, how] of floors) {
    for (const c of [1, 16, 64]) {
      const sdk = by.get(`${prefix}-c${c}`);
      const read = by.get(`read-c${c}`);
      const sdkCpu = sdk?.cpuMsPerCall[proc];
      const gwCpu = read?.cpuMsPerCall.gateway;
      const r = gwCpu !== undefined && sdkCpu !== undefined ? gwCpu / sdkCpu : undefined;
      out.push(`| gateway CPU per full-path read ÷ SDK floor (${how}), c${c} | ${fmt(gwCpu, 3)} ÷ ${fmt(sdkCpu, 3)} ms = **${fmt(r)}×** | ≤ 1.5× | ${verdict(r === undefined ? undefined : r <= 1.5)} |`);
    }
  }
  for (const c of [1, 16, 64]) {
    const sdk = by.get(`sdkp-c${c}`);
    const read = by.get(`read-c${c}`);
    const r = sdk !== undefined && read !== undefined ? read.cpuTotalMsPerCall / (sdk.cpuMsPerCall['sdk-parsed'] ?? Number.NaN) : undefined;
    out.push(`| full path CPU per call (gateway + connector + nats + sim) ÷ SDK floor (pre-parsed), c${c} | ${fmt(read?.cpuTotalMsPerCall, 3)} ÷ ${fmt(sdk?.cpuMsPerCall['sdk-parsed'], 3)} ms = ${fmt(r)}× | (informative) | |`);
  }
  const read1 = by.get('read-c1');
  const sa1 = by.get('standalone-c1');
  if (read1 !== undefined && sa1 !== undefined) {
    const hop = read1.p50 - sa1.p50;
    out.push(`| NATS hop at p50 (split c1 p50 − standalone c1 p50; audit on: two NATS round trips per call in the split) | ${fmt(read1.p50)} − ${fmt(sa1.p50)} = **${fmt(hop)} ms** | ≤ 0.3 ms | ${verdict(hop <= 0.3)} |`);
  }
  const off1 = by.get('read-noaudit-c1');
  const saOff1 = by.get('standalone-noaudit-c1');
  if (off1 !== undefined && saOff1 !== undefined) {
    const hop = off1.p50 - saOff1.p50;
    out.push(`| NATS hop at p50 with audit off on both sides (one NATS round trip per call) | ${fmt(off1.p50)} − ${fmt(saOff1.p50)} = **${fmt(hop)} ms** | ≤ 0.3 ms | ${verdict(hop <= 0.3)} |`);
  }
  const raw1 = by.get('nats-raw-c1');
  const bus1 = by.get('nats-bus-c1');
  if (raw1 !== undefined) out.push(`| raw NATS request-reply p50, c1 (floor of the hop) | ${fmt(raw1.p50)} ms | | |`);
  if (bus1 !== undefined) out.push(`| libs/bus request-reply p50, c1 | ${fmt(bus1.p50)} ms | | |`);
  for (const c of [1, 16, 64]) {
    const read = by.get(`read-c${c}`);
    const sa = by.get(`standalone-c${c}`);
    if (read === undefined || sa === undefined) continue;
    out.push(
      `| split ÷ standalone, c${c} | calls/s ${fmt(read.callsPerSec / sa.callsPerSec)}×, CPU/call ${fmt(read.cpuTotalMsPerCall / sa.cpuTotalMsPerCall)}×, p50 ${fmt(read.p50 / sa.p50)}× | (informative) | |`,
    );
  }
  const two = by.get('replicas2-c64');
  const one = by.get('replicas1-c64') ?? by.get('read-c64');
  if (two !== undefined && one !== undefined) {
    out.push(
      `| two replicas ÷ one, c64 | calls/s ${fmt(two.callsPerSec)} ÷ ${fmt(one.callsPerSec)} = **${fmt(two.callsPerSec / one.callsPerSec)}×**, p50 ${fmt(two.p50 / one.p50)}×, CPU/call ${fmt(two.cpuTotalMsPerCall / one.cpuTotalMsPerCall)}× | (informative: 2 cores) | |`,
    );
  }
  const readTrips = read1?.coreRequestsPerCall;
  if (readTrips !== undefined) {
    const total = Object.values(readTrips).reduce((a, b) => a + b, 0);
    out.push(`| Core requests per read from live state | ${fmt(total)} | 0 | ${verdict(total === 0)} |`);
  }
  const w16 = by.get('write16-c1') ?? by.get('write16-c16');
  if (w16?.coreRequestsPerCall !== undefined) {
    const total = Object.values(w16.coreRequestsPerCall).reduce((a, b) => a + b, 0);
    const sets = w16.coreRequestsPerCall['Component.Set'] ?? 0;
    out.push(`| Core requests per 16-control write | ${fmt(total)} (${fmt(sets)} Component.Set) | 1 | ${verdict(total === 1 && sets === 1)} |`);
  }
  for (const i of idle) {
    const after = i.afterLoadRssMb === undefined ? '' : ` (${fmt(i.afterLoadRssMb, 1)} MB idle after the load)`;
    out.push(`| idle RSS, ${i.name} | ${fmt(i.idleRssMb, 1)} MB${after} | ≤ 100 MB | ${verdict(i.idleRssMb <= 100)} |`);
  }
  for (const c of [1, 16]) {
    const off = by.get(`read-noaudit-c${c}`);
    const on = by.get(`read-audit-c${c}`);
    const sdk = by.get(`sdkp-c${c}`)?.cpuMsPerCall['sdk-parsed'];
    if (off === undefined || on === undefined) continue;
    const gOff = off.cpuMsPerCall.gateway ?? Number.NaN;
    const gOn = on.cpuMsPerCall.gateway ?? Number.NaN;
    out.push(
      `| gateway CPU per read, audit on ÷ off, c${c} | ${fmt(gOn, 3)} ÷ ${fmt(gOff, 3)} ms = ${fmt(gOn / gOff)}× (+${fmt(gOn - gOff, 3)} ms); nats-server ${fmt(on.cpuMsPerCall.nats, 3)} vs ${fmt(off.cpuMsPerCall.nats, 3)} ms; p50 ${fmt(on.p50)} vs ${fmt(off.p50)} ms | (informative) | |`,
    );
    if (sdk !== undefined) out.push(`| gateway CPU per read with audit off ÷ SDK floor (pre-parsed), c${c} | ${fmt(gOff, 3)} ÷ ${fmt(sdk, 3)} ms = **${fmt(gOff / sdk)}×** | ≤ 1.5× | ${verdict(gOff / sdk <= 1.5)} |`);
  }
  const info = by.get('read-info-c16');
  const warn = by.get('read-warn-c16');
  if (info !== undefined && warn !== undefined) {
    const gi = info.cpuMsPerCall.gateway ?? Number.NaN;
    const gw = warn.cpuMsPerCall.gateway ?? Number.NaN;
    out.push(`| gateway CPU per call, LOG_LEVEL=info ÷ warn, c16 | ${fmt(gi, 3)} ÷ ${fmt(gw, 3)} ms = ${fmt(gi / gw)}× (+${fmt(gi - gw, 3)} ms) | (informative) | |`);
  }
  return out.join('\n');
}
