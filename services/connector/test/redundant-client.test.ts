import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@qsys-mcp/contracts';
import { createSilentLogger } from '@qsys-mcp/observability';
import { QrcClient } from '@qsys-mcp/qrc';
import { startSimulatorPair, type SimulatorPair } from '@qsys-mcp/qsys-sim';
import { RedundantClient } from '../src/redundant-client.js';
import { waitFor } from '../../../test/support/wait.js';

let pair: SimulatorPair;
let client: RedundantClient;
const events: string[] = [];

function qrc(port: number): QrcClient {
  return new QrcClient({ host: '127.0.0.1', port, transport: 'ws', reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
}

beforeAll(async () => {
  pair = await startSimulatorPair({ wsPort: 0, tcpPort: null, backupWsPort: 0, backupTcpPort: null });
  client = new RedundantClient({
    primary: { client: qrc(pair.primary.wsPort), host: '127.0.0.1', port: pair.primary.wsPort },
    backup: { client: qrc(pair.backup.wsPort), host: '127.0.0.1', port: pair.backup.wsPort },
    logger: createSilentLogger(),
    alarmDelayMs: 100,
  });
  client.on('connected', () => events.push('connected'));
  client.on('disconnected', () => events.push('disconnected'));
  client.start();
  await client.waitConnected(5000);
});

afterAll(async () => {
  await client?.close();
  await pair?.close();
});

const setGain = (value: number): Promise<unknown> =>
  client.call('Component.Set', { Name: 'Main Gain', Controls: [{ Name: 'gain', Value: value }], ResponseValues: true });

describe('redundant Core pair', () => {
  it('sends commands only to the Active Core', async () => {
    await waitFor(() => client.pairState.members.every((m) => m.state !== 'Unknown'), { what: 'both states' });
    expect(client.pairState).toMatchObject({ active: 'primary', alarm: undefined });
    pair.primary.resetStats();
    pair.backup.resetStats();
    await setGain(-11);
    expect(pair.primary.stats().byMethod['Component.Set']).toBe(1);
    expect(pair.backup.stats().byMethod['Component.Set']).toBeUndefined();
  });

  it('switches to the other Core when the Active one goes Standby, and the next write goes there', async () => {
    pair.switchover();
    await waitFor(() => client.pairState.active === 'backup', { what: 'the switch to the backup' });
    expect(events.at(-1)).toBe('connected');
    // The transient states of a switchover raise no alarm.
    expect(client.pairState.alarm).toBeUndefined();
    pair.primary.resetStats();
    pair.backup.resetStats();
    await setGain(-12);
    expect(pair.backup.stats().byMethod['Component.Set']).toBe(1);
    expect(pair.primary.stats().byMethod['Component.Set']).toBeUndefined();
    expect(pair.backup.getControl('Main Gain', 'gain')?.Value).toBe(-12);
  });

  it('raises an alarm on Active/Active and Standby/Standby, and fails fast without an Active Core', async () => {
    pair.setStates('Active', 'Active');
    await waitFor(() => client.pairState.alarm === 'Active/Active', { what: 'the Active/Active alarm' });
    pair.setStates('Standby', 'Standby');
    await waitFor(() => client.pairState.alarm === 'Standby/Standby', { what: 'the Standby/Standby alarm' });
    await waitFor(() => !client.connected, { what: 'no Active Core' });
    const err = await setGain(-13).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CORE_UNAVAILABLE');
    pair.setStates('Active', 'Standby');
    await waitFor(() => client.pairState.active === 'primary' && client.pairState.alarm === undefined, { what: 'recovery' });
    await setGain(-14);
    expect(pair.primary.getControl('Main Gain', 'gain')?.Value).toBe(-14);
  });

  it('raises an alarm when the two Cores run different designs', async () => {
    pair.backup.setDesignCode('other-design');
    await waitFor(() => client.pairState.alarm === 'DesignCode mismatch', { what: 'the DesignCode alarm' });
    pair.backup.setDesignCode(pair.primary.engineStatus().DesignCode);
    await waitFor(() => client.pairState.alarm === undefined, { what: 'the alarm to clear' });
  });

  it('follows the Active Core when the Active one is lost', async () => {
    pair.setStates('Active', 'Standby');
    await waitFor(() => client.pairState.active === 'primary', { what: 'primary active' });
    pair.primary.setFaults({ refuseConnections: true });
    pair.primary.dropConnections();
    pair.setStates('Standby', 'Active');
    await waitFor(() => client.pairState.active === 'backup', { what: 'the backup to take over' });
    await setGain(-15);
    expect(pair.backup.getControl('Main Gain', 'gain')?.Value).toBe(-15);
    pair.primary.clearFaults();
  });
});
