import { componentEntry, namedEntry, type ComponentEntry, type Control, type NamedEntry } from './control.js';
import { RpcError } from './protocol.js';
import type { ControlStore } from './control-store.js';

/** Change groups a connection may hold at once (QRC: "maximum limit of four change groups"). */
export const MAX_CHANGE_GROUPS = 4;

interface Member {
  readonly control: Control;
  /** Named Control name, or undefined for a component control. */
  readonly named: string | undefined;
  /** Control sequence number last reported; -1 = report on the next poll. */
  sent: number;
}

/** A change reported by a poll. */
export type ChangeEntry = ComponentEntry | NamedEntry;

const NO_CHANGES: readonly ChangeEntry[] = Object.freeze([]);

/**
 * One change group: a set of controls and, per control, what the client was last told.
 * A poll reports the controls whose value moved since (all of them after an add or
 * `Invalidate`). Meters among the members are brought up to date before comparing.
 */
export class ChangeGroup {
  /** The `Id` as the client sent it (echoed in poll results with its type). */
  readonly id: string | number;
  private readonly members = new Map<string, Member>();
  private meters = 0;
  /** Store sequence at the last poll; equal and nothing pending = nothing to report. */
  private polledSeq = -1;
  private pending = false;
  /** AutoPoll timer, owned by the session. */
  autoPoll: NodeJS.Timeout | undefined;

  constructor(id: string | number) {
    this.id = id;
  }

  /** Adds a component control (no-op when already a member). */
  addComponentControl(control: Control): void {
    this.add(`${control.component ?? ''}\u0000${control.name}`, control, undefined);
  }

  /** Adds a Named Control (no-op when already a member). */
  addNamed(name: string, control: Control): void {
    this.add(`\u0001${name}`, control, name);
  }

  private add(key: string, control: Control, named: string | undefined): void {
    if (this.members.has(key)) return;
    this.members.set(key, { control, named, sent: -1 });
    if (control.spec.meter) this.meters++;
    this.pending = true;
  }

  /** Removes a Named Control; returns whether it was a member. */
  removeNamed(name: string): boolean {
    const member = this.members.get(`\u0001${name}`);
    if (!member) return false;
    this.members.delete(`\u0001${name}`);
    if (member.control.spec.meter) this.meters--;
    return true;
  }

  /** Removes every control. */
  clear(): void {
    this.members.clear();
    this.meters = 0;
  }

  /** Makes the next poll report every control. */
  invalidate(): void {
    for (const m of this.members.values()) m.sent = -1;
    this.pending = true;
  }

  /** Number of controls in the group. */
  get size(): number {
    return this.members.size;
  }

  /**
   * Moves the group onto the controls of a new design (`loadDesign`): members the new design
   * lacks are dropped, the others are reported on the next poll.
   * @returns the number of members dropped.
   */
  rebind(store: ControlStore): number {
    let dropped = 0;
    this.meters = 0;
    for (const [key, m] of this.members) {
      const control = m.named === undefined ? store.control(m.control.component ?? '', m.control.name) : store.named.get(m.named);
      if (!control) {
        this.members.delete(key);
        dropped++;
        continue;
      }
      this.members.set(key, { control, named: m.named, sent: -1 });
      if (control.spec.meter) this.meters++;
    }
    this.polledSeq = -1;
    this.pending = true;
    return dropped;
  }

  /** The changes since the last poll, marking them as reported. */
  poll(store: ControlStore): readonly ChangeEntry[] {
    if (!this.pending && this.meters === 0 && store.seq === this.polledSeq) return NO_CHANGES;
    const changes: ChangeEntry[] = [];
    for (const m of this.members.values()) {
      const c = m.control;
      if (c.spec.meter) store.refresh(c);
      if (c.seq === m.sent) continue;
      m.sent = c.seq;
      changes.push(m.named === undefined ? componentEntry(c.component ?? '', c) : namedEntry(m.named, c));
    }
    this.polledSeq = store.seq;
    this.pending = false;
    return changes;
  }
}

/** The change groups of one connection, at most {@link MAX_CHANGE_GROUPS}. */
export class ChangeGroupRegistry {
  private readonly groups = new Map<string, ChangeGroup>();

  /** The group with this Id, or error 6 "Unknown change group". */
  get(id: string | number): ChangeGroup {
    const group = this.groups.get(String(id));
    if (!group) throw new RpcError('UNKNOWN_CHANGE_GROUP', `no change group ${JSON.stringify(id)}`);
    return group;
  }

  /** The group with this Id, created when missing; error 5 "Change Groups exhausted" past the limit. */
  getOrCreate(id: string | number): ChangeGroup {
    const key = String(id);
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= MAX_CHANGE_GROUPS) throw new RpcError('CHANGE_GROUPS_EXHAUSTED', `already ${MAX_CHANGE_GROUPS} change groups`);
      group = new ChangeGroup(id);
      this.groups.set(key, group);
    }
    return group;
  }

  /** Deletes a group and stops its AutoPoll; error 6 when unknown. */
  destroy(id: string | number): void {
    const group = this.get(id);
    if (group.autoPoll) clearInterval(group.autoPoll);
    this.groups.delete(String(id));
  }

  /** Number of groups. */
  get size(): number {
    return this.groups.size;
  }

  /** Moves every group onto a new design's controls (see {@link ChangeGroup.rebind}); returns the members dropped. */
  rebind(store: ControlStore): number {
    let dropped = 0;
    for (const group of this.groups.values()) dropped += group.rebind(store);
    return dropped;
  }

  /** Deletes every group (connection closed). */
  closeAll(): void {
    for (const group of this.groups.values()) if (group.autoPoll) clearInterval(group.autoPoll);
    this.groups.clear();
  }
}
