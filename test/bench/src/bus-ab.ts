import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { logDir, startNats, startNode, type Proc } from './procs.js';
import { runLoad, quantile } from './load.js';

/**
 * The caller's side of a libs/bus request, before/after: CPU of this process per
 * `bus.request()` to a raw NATS echo, for the libs/bus builds of two checkouts, alternating
 * 2 s windows at concurrency 16 (the gateway's side of the NATS hop, without HTTP or MCP).
 *
 *   node test/bench/dist/bus-ab.js DIR_A DIR_B [ROUNDS]
 */

type BusModule = typeof import('@qsys-mcp/bus/nats');

const [dirA, dirB, roundsArg] = process.argv.slice(2);
if (dirA === undefined || dirB === undefined) {
  console.error('usage: bus-ab.js DIR_A DIR_B [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 6);
const procs: Proc[] = [];
try {
  const nats = await startNats();
  procs.push(nats);
  const echo = await startNode({ name: 'nats-echo', script: 'test/bench/dist/servers/nats-echo.js', env: { NATS_URL: nats.url, ECHO_MODE: 'raw' } });
  procs.push(echo);
  const buses = [];
  for (const dir of [dirA, dirB]) {
    // The NATS adapter's entry point (libs/bus/dist/index.js before it moved to nats-index.js).
    const entry = ['libs/bus/dist/nats-index.js', 'libs/bus/dist/index.js'].map((f) => join(dir, f)).find((f) => existsSync(f)) ?? join(dir, 'libs/bus/dist/index.js');
    const mod = (await import(pathToFileURL(entry).href)) as BusModule;
    buses.push(await mod.createNatsBus({ servers: nats.url, name: `bus-ab-${buses.length}` }));
  }
  const payload = { component: 'Main Gain' };
  const headers = { 'Qsys-Request-Id': 'bench', 'Qsys-Client-Id': 'anonymous' };
  const results: Array<{ cpu: number[]; p50: number[] }> = [{ cpu: [], p50: [] }, { cpu: [], p50: [] }];
  for (let round = 0; round < rounds; round++) {
    for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const bus = buses[i]!;
      let cpu0 = process.cpuUsage();
      let cpu = 0;
      const r = await runLoad(
        { call: async () => (await bus.request('bench.echo', payload, { timeoutMs: 5000, headers })) !== undefined },
        { concurrency: 16, warmupMs: 500, durationMs: 2000 },
        {
          onStart: () => {
            cpu0 = process.cpuUsage();
          },
          onEnd: () => {
            const d = process.cpuUsage(cpu0);
            cpu = (d.user + d.system) / 1000;
          },
        },
      );
      results[i]!.cpu.push((cpu / r.calls) * 1000);
      results[i]!.p50.push(quantile(r.latenciesMs, 0.5));
    }
  }
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? Number.NaN;
  const [a, b] = results as [{ cpu: number[]; p50: number[] }, { cpu: number[]; p50: number[] }];
  console.log(`caller CPU per bus.request, µs (median of ${rounds} windows of 2 s, c16): A ${median(a.cpu).toFixed(1)} · B ${median(b.cpu).toFixed(1)} · B ÷ A ${(median(b.cpu) / median(a.cpu)).toFixed(2)}`);
  console.log(`  A windows: ${a.cpu.map((v) => v.toFixed(1)).join(' ')}\n  B windows: ${b.cpu.map((v) => v.toFixed(1)).join(' ')}`);
  for (const bus of buses) await bus.close();
} finally {
  for (const p of procs.reverse()) await p.stop(3000);
  await rm(await logDir(), { recursive: true, force: true });
}
