import { EventEmitter } from 'node:events';
import { AppError } from '@qsys-mcp/contracts';
import type { Logger } from '@qsys-mcp/observability';
import type { QrcClientApi, QrcClientEvents } from '@qsys-mcp/qrc';
import { parseEngineStatus } from './core-api.js';

/** The two members of a redundant Core pair. */
export const PAIR_ROLES = ['primary', 'backup'] as const;
export type PairRole = (typeof PAIR_ROLES)[number];

/** One member's state as the connector sees it. */
export interface PairMemberState {
  role: PairRole;
  host: string;
  port: number;
  connected: boolean;
  /** `Active`, `Standby`, `Idle` from `StatusGet`/`EngineStatus`; `Unknown` before the first. */
  state: string;
  designCode: string;
}

/** The pair's state: which member is Active, and an alarm when the pair is not healthy. */
export interface PairState {
  active: PairRole | undefined;
  members: PairMemberState[];
  /** `Active/Active`, `Standby/Standby`, `DesignCode mismatch`, or undefined when healthy. */
  alarm: string | undefined;
}

/** Options of {@link RedundantClient}. */
export interface RedundantClientOptions {
  primary: { client: QrcClientApi; host: string; port: number };
  backup: { client: QrcClientApi; host: string; port: number };
  logger: Logger;
  /** Timeout of the `StatusGet` that refreshes a member's state, ms. @default 2000 */
  statusTimeoutMs?: number;
  /**
   * An alarm condition must last this long before it is raised, ms: during a normal switchover
   * the two Cores' EngineStatus arrive on two sockets in any order, and a pair is briefly seen
   * as Active/Active or Standby/Standby. @default 2000
   */
  alarmDelayMs?: number;
}

interface Member extends PairMemberState {
  client: QrcClientApi;
  /** Bumped on every EngineStatus: a StatusGet answer older than the last EngineStatus is stale. */
  version: number;
}

/**
 * A QRC client over a redundant Core pair (primary and backup), with the same interface as one
 * `QrcClient`, so the connector's session works on it unchanged. It keeps a connection to both
 * Cores, tracks each one's `State` from `StatusGet` on connect and from `EngineStatus`, and
 * sends every command to the Active Core only. When the Active Core goes Standby (or answers
 * `-32604`, `QSYS_CORE_STANDBY`) it switches to the other one if that is Active, and emits
 * `connected` (`reconnect: true`) so the session discovers the design and rebuilds its change
 * group on the new Active Core. Without an Active Core it is "disconnected": calls fail fast
 * with `CORE_UNAVAILABLE`. Active/Active, Standby/Standby and different DesignCodes raise an
 * alarm (logged at error level, in `pairState`).
 */
export class RedundantClient extends EventEmitter<QrcClientEvents> implements QrcClientApi {
  readonly #members: Record<PairRole, Member>;
  readonly #logger: Logger;
  readonly #statusTimeoutMs: number;
  #active: PairRole | undefined;
  #alarm: string | undefined;
  #pendingAlarm: { alarm: string; timer: NodeJS.Timeout } | undefined;
  readonly #alarmDelayMs: number;
  #everActive = false;

  constructor(options: RedundantClientOptions) {
    super();
    this.#logger = options.logger;
    this.#statusTimeoutMs = options.statusTimeoutMs ?? 2000;
    this.#alarmDelayMs = options.alarmDelayMs ?? 2000;
    const member = (role: PairRole, m: RedundantClientOptions['primary']): Member => ({
      role,
      client: m.client,
      host: m.host,
      port: m.port,
      connected: false,
      state: 'Unknown',
      designCode: '',
      version: 0,
    });
    this.#members = { primary: member('primary', options.primary), backup: member('backup', options.backup) };
    for (const role of PAIR_ROLES) this.#wire(this.#members[role]);
  }

  /** True while an Active Core is connected. */
  get connected(): boolean {
    return this.#active !== undefined && this.#members[this.#active].connected;
  }

  /** The pair's state (for the status reply and health). */
  get pairState(): PairState {
    return {
      active: this.#active,
      members: PAIR_ROLES.map((r) => {
        const { client: _client, version: _version, ...state } = this.#members[r];
        return state;
      }),
      alarm: this.#alarm,
    };
  }

  start(): void {
    for (const role of PAIR_ROLES) this.#members[role].client.start();
  }

  async waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', done);
        reject(this.#unavailable(`no Active Core after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', done);
    });
  }

  async call<T = unknown>(method: string, params?: unknown, options?: { timeoutMs?: number }): Promise<T> {
    const role = this.#active;
    if (role === undefined) throw this.#unavailable('no Core of the pair is Active');
    try {
      return await this.#members[role].client.call<T>(method, params, options);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== 'QSYS_CORE_STANDBY') throw err;
      // The Active Core went Standby before its EngineStatus arrived: refresh both and retry once.
      this.#logger.warn({ role, method }, 'the Active Core answered -32604 (Standby); switching');
      await Promise.all(PAIR_ROLES.map((r) => this.#refresh(this.#members[r])));
      const next = this.#active;
      if (next === undefined || next === role) throw err;
      return this.#members[next].client.call<T>(method, params, options);
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#pendingAlarm?.timer);
    await Promise.all(PAIR_ROLES.map((r) => this.#members[r].client.close()));
  }

  #wire(m: Member): void {
    m.client.on('connected', () => {
      m.connected = true;
      void this.#refresh(m);
    });
    m.client.on('disconnected', ({ reason }) => {
      m.connected = false;
      m.version += 1;
      m.state = 'Unknown';
      this.#logger.warn({ role: m.role, host: m.host, reason }, 'lost a Core of the redundant pair');
      this.#evaluate(reason);
    });
    m.client.on('reconnecting', (info) => {
      if (this.#active === undefined) this.emit('reconnecting', info);
    });
    m.client.on('malformed', (raw, kind) => this.emit('malformed', raw, kind));
    m.client.on('notification', (method, params) => {
      if (method === 'EngineStatus') {
        const status = parseEngineStatus(params);
        m.version += 1;
        m.state = status.state;
        m.designCode = status.designCode;
        this.#evaluate(`EngineStatus from the ${m.role} Core: ${status.state}`);
      }
      // Pushes of the Standby Core (its change groups, its own status) are not the pair's.
      if (m.role === this.#active) this.emit('notification', method, params);
    });
  }

  async #refresh(m: Member): Promise<void> {
    if (!m.connected) return;
    const version = m.version;
    try {
      const status = parseEngineStatus(await m.client.call('StatusGet', 0, { timeoutMs: this.#statusTimeoutMs }));
      // An EngineStatus that arrived meanwhile is newer than this answer.
      if (m.version !== version) return;
      m.state = status.state;
      m.designCode = status.designCode;
    } catch (err) {
      this.#logger.warn({ role: m.role, err: (err as Error).message }, 'cannot read the state of a Core of the pair');
    }
    this.#evaluate(`status of the ${m.role} Core`);
  }

  /** Picks the Active member, announces switches, raises alarms. */
  #evaluate(reason: string): void {
    const { primary, backup } = this.#members;
    const active = [primary, backup].filter((m) => m.connected && m.state === 'Active');
    const standby = [primary, backup].filter((m) => m.connected && m.state === 'Standby');
    let alarm: string | undefined;
    if (active.length === 2) alarm = 'Active/Active';
    else if (standby.length === 2) alarm = 'Standby/Standby';
    else if (primary.connected && backup.connected && primary.designCode !== '' && backup.designCode !== '' && primary.designCode !== backup.designCode) {
      alarm = 'DesignCode mismatch';
    }
    this.#updateAlarm(alarm);
    // Keep the current Active Core while it stays Active (also in Active/Active).
    const current = this.#active === undefined ? undefined : this.#members[this.#active];
    const next = current !== undefined && active.includes(current) ? current : active[0];
    if (next?.role === this.#active) return;
    const previous = this.#active;
    this.#active = next?.role;
    if (next !== undefined) {
      this.#logger.warn({ from: previous, to: next.role, host: next.host, reason }, 'Active Core of the pair selected');
      this.emit('connected', { reconnect: this.#everActive });
      this.#everActive = true;
    } else if (previous !== undefined) {
      this.emit('disconnected', { reason: `no Active Core (${reason})`, willReconnect: true });
    }
  }

  /** Raises an alarm once its condition has lasted `alarmDelayMs`; clears it at once. */
  #updateAlarm(alarm: string | undefined): void {
    if (alarm === undefined) {
      clearTimeout(this.#pendingAlarm?.timer);
      this.#pendingAlarm = undefined;
      if (this.#alarm !== undefined) this.#logger.info({ alarm: this.#alarm }, 'redundant Core pair alarm cleared');
      this.#alarm = undefined;
      return;
    }
    if (alarm === this.#alarm || alarm === this.#pendingAlarm?.alarm) return;
    clearTimeout(this.#pendingAlarm?.timer);
    const timer = setTimeout(() => {
      this.#pendingAlarm = undefined;
      this.#alarm = alarm;
      this.#logger.error({ alarm, pair: this.pairState.members }, 'redundant Core pair alarm');
    }, this.#alarmDelayMs);
    timer.unref();
    this.#pendingAlarm = { alarm, timer };
  }

  #unavailable(why: string): AppError {
    const { primary, backup } = this.#members;
    return new AppError('CORE_UNAVAILABLE', `Redundant Core pair ${primary.host}:${primary.port} / ${backup.host}:${backup.port} is unavailable: ${why}`, {
      details: { primary: `${primary.host}:${primary.port}`, backup: `${backup.host}:${backup.port}`, states: [primary.state, backup.state] },
    });
  }
}
