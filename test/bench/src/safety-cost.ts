import { writeFileSync } from 'node:fs';
import { compileSafety, type SafetyRules, type SafetyWrite } from '@qsys-mcp/connector';

/**
 * CPU of the connector's safety checks alone (docs/performance.md, "Safety envelope"): the
 * checks a write runs (`checkStatic`, then `hasStepRule` / `checkStep` against a known current
 * value) for the bench's two writes, with the 100 rules of the A/B and with none, in this
 * process. Writes the 100 rules as a connector config file for the A/B:
 *
 *   node test/bench/dist/safety-cost.js [RULES_OUT.json]
 *
 * The rules: 34 protected patterns, 33 limits, 33 max steps; half of each list has a `*`
 * (leading, the slowest to reject), none refuses the bench's writes: `Main Gain/gain` matches
 * only the last limit (-60..0) and the last max step (`Main Gain/*`, step 100); the mixer's
 * controls match nothing, so every pattern is tried.
 */

export const HUNDRED_RULES: SafetyRules = {
  protectedControls: [...Array.from({ length: 17 }, (_, i) => `Amp ${i + 1}/mute`), ...Array.from({ length: 17 }, (_, i) => `*/invert${i + 1}`)],
  limits: [
    ...Array.from({ length: 16 }, (_, i) => ({ match: `Zone ${i + 10} Gain/gain`, min: -100, max: 20 })),
    ...Array.from({ length: 16 }, (_, i) => ({ match: `*/level${i + 1}`, min: -100, max: 20 })),
    { match: 'Main Gain/gain', min: -60, max: 0 },
  ],
  maxStep: [
    ...Array.from({ length: 16 }, (_, i) => ({ match: `Zone ${i + 10} */gain`, step: 6, minRampSeconds: 2 })),
    ...Array.from({ length: 16 }, (_, i) => ({ match: `*/trim${i + 1}`, step: 6, minRampSeconds: 2 })),
    { match: 'Main Gain/*', step: 100, minRampSeconds: 1 },
  ],
};

// The bench's writes (run.ts WRITE_1 and WRITE_16): one gain, sixteen mixer gains.
const WRITE_1: SafetyWrite[] = [{ component: 'Main Gain', control: 'gain', value: -20 }];
const MIXER_16 = [
  ...[1, 2, 3, 4].map((i) => `input.${i}.gain`),
  ...[1, 2, 3, 4].flatMap((i) => [1, 2].map((o) => `input.${i}.output.${o}.gain`)),
  'output.1.gain',
  'output.2.gain',
];
const WRITE_16: SafetyWrite[] = MIXER_16.map((control) => ({ component: 'Main Mixer', control, value: -20 }));

/** Median CPU µs per request over 7 windows of `n` requests, after a warm-up. */
function cost(rules: SafetyRules, writes: readonly SafetyWrite[], n = 20_000): number {
  const safety = compileSafety(rules);
  const check = (): void => {
    if (safety.empty) return;
    writes.forEach((w, index) => safety.checkStatic(w, false, { index }));
    writes.forEach((w, index) => {
      if (safety.hasStepRule(w)) safety.checkStep(w, -15, { index });
    });
  };
  for (let i = 0; i < n; i++) check();
  const windows: number[] = [];
  for (let r = 0; r < 7; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) check();
    const c = process.cpuUsage(c0);
    windows.push((c.user + c.system) / n);
  }
  return windows.sort((x, y) => x - y)[3]!;
}

const out = process.argv[2];
if (out !== undefined) {
  writeFileSync(out, JSON.stringify({ safety: HUNDRED_RULES }, null, 1));
  console.log(`wrote ${out}: pass it to the connector of one side, --ab-connector-env-b MCP_CONFIG=${out}`);
}
const none: SafetyRules = { protectedControls: [], limits: [], maxStep: [] };
for (const [label, writes] of [
  ['set_controls, 1 control (Main Gain/gain)', WRITE_1],
  ['set_controls, 16 controls (Main Mixer)', WRITE_16],
] as const) {
  console.log(`${label}: ${cost(HUNDRED_RULES, writes).toFixed(2)} µs CPU per request with 100 rules, ${cost(none, writes).toFixed(2)} µs with none (median of 7 windows of 20000)`);
}
