import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ERROR_CODES, startAdminServer, startSimulator, type AdminServer, type Simulator } from '../src/index.js';
import { admin } from './support/admin-client.js';

// The admin interface's own contract: routes, status, and clear errors for bad requests.

let sim: Simulator;
let server: AdminServer;
beforeAll(async () => {
  sim = await startSimulator({ wsPort: 0, tcpPort: null });
  server = await startAdminServer(sim, { port: 0 });
});
afterAll(async () => {
  await server.close();
  await sim.close();
});

describe('the admin interface', () => {
  it('listens on its own OS-chosen port and describes the simulator', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(sim.wsPort);
    const { status, body } = await admin(server.url, 'GET', '/admin/status');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      mode: 'single',
      active: 'primary',
      design: { name: 'Sim-Auditorium', code: sim.design.code },
      cores: { primary: { role: 'primary', wsPort: sim.wsPort, tcpPort: null, wsUrl: sim.wsUrl, connections: 0, engine: { State: 'Active' }, faults: { errorRate: 0 } } },
    });
    expect(Object.keys(body.cores)).toEqual(['primary']);
  });

  it('answers 404 for unknown routes and 405 (with Allow) for the wrong method', async () => {
    const missing = await admin(server.url, 'GET', '/admin/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe(ADMIN_ERROR_CODES.NOT_FOUND.code);
    const wrong = await admin(server.url, 'GET', '/admin/drop');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.body.error.code).toBe('SIM_ADMIN_METHOD_NOT_ALLOWED');
  });

  it('rejects a body that is not JSON, or not an object', async () => {
    const notJson = await admin(server.url, 'POST', '/admin/faults', '{"errorRate":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('SIM_ADMIN_INVALID_JSON');
    const array = await admin(server.url, 'POST', '/admin/faults', '[1]');
    expect(array.status).toBe(400);
    expect(array.body.error.code).toBe('SIM_ADMIN_INVALID_BODY');
  });

  it('lists every problem of a bad faults body and changes nothing', async () => {
    const { status, body } = await admin(server.url, 'POST', '/admin/faults', { errorRate: 1.5, responseDelayMs: -1, unresponsive: 'yes', errorSeed: 0.5, hang: true });
    expect(status).toBe(400);
    expect(body.error.code).toBe('SIM_ADMIN_INVALID_BODY');
    expect(body.error.problems).toEqual([
      'body.errorRate: must be a number from 0 to 1',
      'body.responseDelayMs: must be an integer from 0 to 3600000',
      'body.unresponsive: must be a boolean',
      'body.errorSeed: must be an integer or null',
      'body.hang: unknown fault (known: responseDelayMs, unresponsive, refuseConnections, errorRate, errorSeed, errorMethods)',
    ]);
    expect(sim.faults().errorRate).toBe(0);
    expect((await admin(server.url, 'POST', '/admin/faults', {})).body.error.problems).toEqual([expect.stringMatching(/^body: must set at least one fault/)]);
  });

  it('rejects bad state, malformed, design and core selections with the field at fault', async () => {
    const cases: [string, unknown, string][] = [
      ['/admin/state', { state: 'Asleep' }, 'body.state: must be one of Active, Standby, Idle'],
      ['/admin/state', {}, 'body: must give state, status or designCode'],
      ['/admin/state', { status: { Code: 9, String: 'x' } }, 'body.status.Code: must be an integer from 0 to 5'],
      ['/admin/state', { state: 'Standby', core: 'backup' }, 'body.core: this simulator has no backup Core (it is not a pair)'],
      ['/admin/drop', { core: 'third' }, "body.core: must be 'primary' or 'backup' (or absent: every Core)"],
      ['/admin/drop', { all: true }, 'body.all: unknown key (allowed: core)'],
      ['/admin/malformed', { unknownId: 'yes' }, 'body.unknownId: must be a boolean'],
      ['/admin/malformed', { huge: 0 }, 'body.huge: must be an integer from 1 to 67108864 (bytes)'],
      ['/admin/malformed', { huge: 67_108_865 }, 'body.huge: must be an integer from 1 to 67108864 (bytes)'],
      ['/admin/malformed', { huge: '1MB' }, 'body.huge: must be an integer from 1 to 67108864 (bytes)'],
      ['/admin/design', {}, 'body: must give exactly one of path (a design file) and design (a design object)'],
      ['/admin/design', { design: [] }, 'body.design: must be a design object'],
    ];
    for (const [path, body, problem] of cases) {
      const answer = await admin(server.url, 'POST', path, body);
      expect(answer.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.body.error.problems).toContain(problem);
    }
    expect(sim.engineStatus().State).toBe('Active');
  });

  it('answers 409 to a switchover without a pair, and 400 with the design problems to a bad design', async () => {
    const switchover = await admin(server.url, 'POST', '/admin/switchover');
    expect(switchover.status).toBe(409);
    expect(switchover.body.error.code).toBe('SIM_ADMIN_NOT_A_PAIR');
    const unreadable = await admin(server.url, 'POST', '/admin/design', { path: '/nonexistent/design.json' });
    expect(unreadable.status).toBe(400);
    expect(unreadable.body.error.code).toBe('SIM_DESIGN_UNREADABLE');
    const invalid = await admin(server.url, 'POST', '/admin/design', { design: { DesignName: 'x', DesignCode: 'y', Components: [{ Name: 'a' }] } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('SIM_DESIGN_INVALID');
    expect(invalid.body.error.problems).toContain('Components[0].Type: is required (a non-empty string)');
  });

  it('sets the engine state and status of the Core', async () => {
    const answer = await admin(server.url, 'POST', '/admin/state', { state: 'Idle', status: { Code: 5, String: 'Initializing' } });
    expect(answer.body.engines.primary).toMatchObject({ State: 'Idle', Status: { Code: 5, String: 'Initializing' } });
    expect((await admin(server.url, 'GET', '/admin/status')).body.active).toBeNull();
    await admin(server.url, 'POST', '/admin/state', { state: 'Active', status: { Code: 0, String: 'OK' } });
    expect(sim.engineStatus()).toMatchObject({ State: 'Active', Status: { Code: 0, String: 'OK' } });
  });
});
