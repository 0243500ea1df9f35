import { AppError, SNAPSHOT_COMPONENT_TYPE, type SnapshotBank } from '@qsys-mcp/contracts';
import type { Catalog, CatalogComponent } from './catalog.js';
import type { Safety } from './safety.js';
import { closestNames, didYouMean } from './suggest.js';

/**
 * The snapshot banks of a design, from the catalog: components of type `snapshot_controller`.
 * QRC has no method that lists a bank's snapshots or the controls they store; how many
 * snapshots a bank holds is read from what discovery saw (see {@link bankCountOf}).
 */

const LOAD_TRIGGER = /^load\.(\d+)$/;
// The property a snapshot bank reports its snapshot count in (Designer's "Snapshot Count").
const COUNT_PROPERTIES = new Set(['snapshot_count', 'snapshot count']);

/** True when the component is a snapshot bank. */
export function isSnapshotBank(component: { type: string }): boolean {
  return component.type === SNAPSHOT_COMPONENT_TYPE;
}

/**
 * How many snapshots a bank holds: its `snapshot_count` property, else the highest `load.N`
 * trigger among its controls; undefined when neither says (the Core then checks the number).
 */
export function bankCountOf(component: CatalogComponent): number | undefined {
  for (const p of component.properties) {
    if (COUNT_PROPERTIES.has(p.name.toLowerCase()) || COUNT_PROPERTIES.has((p.prettyName ?? '').toLowerCase())) {
      const n = Number(p.value);
      if (Number.isInteger(n) && n >= 0) return n;
    }
  }
  let highest: number | undefined;
  for (const name of component.controls.keys()) {
    const m = LOAD_TRIGGER.exec(name);
    if (m !== null) highest = Math.max(highest ?? 0, Number(m[1]));
  }
  return highest;
}

/** Every snapshot bank of the catalog, in catalog order. */
export function listSnapshotBanks(catalog: Catalog): SnapshotBank[] {
  const out: SnapshotBank[] = [];
  for (const c of catalog.components.values()) {
    if (!isSnapshotBank(c)) continue;
    const bank: SnapshotBank = { name: c.name, type: c.type };
    const count = bankCountOf(c);
    if (count !== undefined) bank.bankCount = count;
    out.push(bank);
  }
  return out;
}

/**
 * The snapshot bank called `name`, with its snapshot count.
 * @throws AppError `QSYS_UNKNOWN_COMPONENT` with the closest bank names (else the closest
 *   component names) as `details.suggestions`; `INVALID_PARAMS` (`details.field: 'name'`) for a
 *   component that is not a snapshot bank, naming it, its type and the banks of the design.
 */
export function requireSnapshotBank(catalog: Catalog, name: string): { component: CatalogComponent; bankCount: number | undefined } {
  const banks = [...catalog.components.values()].filter(isSnapshotBank).map((c) => c.name);
  const component = catalog.components.get(name);
  if (component === undefined) {
    const closeBanks = closestNames(name, banks);
    const suggestions = closeBanks.length > 0 ? closeBanks : closestNames(name, catalog.components.keys());
    throw new AppError('QSYS_UNKNOWN_COMPONENT', `Unknown component '${name}'.${didYouMean(suggestions)}`, {
      details: { component: name, field: 'name', suggestions, banks },
    });
  }
  if (!isSnapshotBank(component)) {
    const list = banks.length === 0 ? 'the design has none' : `the design's are ${banks.map((b) => `'${b}'`).join(', ')}`;
    throw new AppError('INVALID_PARAMS', `Component '${name}' is a ${component.type}, not a snapshot bank (${SNAPSHOT_COMPONENT_TYPE}); ${list}`, {
      details: { component: name, field: 'name', type: component.type, expectedType: SNAPSHOT_COMPONENT_TYPE, banks },
    });
  }
  return { component, bankCount: bankCountOf(component) };
}

/**
 * Checks a snapshot number against the bank's count (not checked when the count is unknown).
 * @throws AppError `INVALID_PARAMS` with `details.field: 'bank'`, `min: 1`, `max`.
 */
export function checkBankNumber(name: string, bank: number, bankCount: number | undefined): void {
  if (bankCount === undefined || (bank >= 1 && bank <= bankCount)) return;
  throw new AppError('INVALID_PARAMS', `Snapshot bank '${name}' holds snapshots 1 to ${bankCount}: there is no snapshot ${bank}`, {
    details: { component: name, field: 'bank', min: 1, max: bankCount, got: bank },
  });
}

/**
 * The safety envelope's protected controls over snapshots: loading snapshot N of a bank counts
 * as a write of its `load.N` trigger, saving as one of `save.N` (the bank's own controls that do
 * the same), so `Room Presets/*` protects every load and save of that bank and
 * `Room Presets/load.3` only loading snapshot 3. Only protection applies (a load has no value
 * for limits or steps).
 * @throws AppError `CONTROL_PROTECTED` for a caller without `qsys:admin`, naming the pattern.
 */
export function checkSnapshotProtected(safety: Safety | undefined, name: string, bank: number, action: 'load' | 'save', admin: boolean): void {
  if (safety === undefined || safety.empty || admin) return;
  const control = `${action}.${bank}`;
  try {
    // No value: only the protected patterns can refuse it, so a refusal of a limit rule (which
    // cannot apply to a trigger) is not the envelope's answer to a snapshot.
    safety.checkStatic({ component: name, control }, false);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'CONTROL_PROTECTED') return;
    const pattern = err.details?.pattern;
    throw new AppError(
      'CONTROL_PROTECTED',
      `${action === 'load' ? 'Loading' : 'Saving'} snapshot ${bank} of bank '${name}' is protected by the safety envelope (pattern '${String(pattern)}' matches '${name}/${control}'): it needs the qsys:admin scope`,
      { details: { ...err.details, field: 'name', bank }, cause: err },
    );
  }
}
