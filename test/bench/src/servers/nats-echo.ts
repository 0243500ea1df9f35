import { createNatsBus } from '@qsys-mcp/bus/nats';
import { connect } from '@nats-io/transport-node';

// Floors: a NATS request-reply echo on `bench.echo`.
// ECHO_MODE=raw: a plain nats.js subscription that responds with the request's bytes.
// ECHO_MODE=bus: a libs/bus service (NATS services framework, JSON decode and encode, headers),
// the way the connector serves its subjects, on `bench.bus.echo`.
const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const mode = process.env.ECHO_MODE ?? 'raw';

if (mode === 'raw') {
  const nc = await connect({ servers: url, name: 'bench-echo-raw' });
  nc.subscribe('bench.echo', { callback: (err, msg) => { if (!err) msg.respond(msg.data); } });
  await nc.flush();
  process.once('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
} else {
  const bus = await createNatsBus({ servers: url, name: 'bench-echo-bus' });
  await bus.serve({ name: 'bench-echo', version: '0.0.1', queue: 'bench', endpoints: [{ name: 'echo', subject: 'bench.bus.echo', handler: async (req) => req.data }] });
  process.once('SIGTERM', () => void bus.close().then(() => process.exit(0)));
}
process.stdout.write(`${JSON.stringify({ msg: 'ready', mode })}\n`);
