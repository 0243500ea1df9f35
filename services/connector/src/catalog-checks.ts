import { AppError, type ControlState, type ControlValue } from '@qsys-mcp/contracts';
import type { Catalog, CatalogComponent } from './catalog.js';
import { closestNames, didYouMean } from './suggest.js';

/**
 * Checks of requests against the design's catalog, made before anything reaches the Core: a
 * bad name or value is refused with a precise code, the argument at fault (`details.index`,
 * `details.field`) and, for names, the closest names of the design (`details.suggestions`).
 */

/** Which argument of a request an error is about. */
export interface Where {
  /** Position in the request's `controls` array, when the request has one. */
  index?: number;
}

function at(where: Where): Record<string, unknown> {
  return where.index === undefined ? {} : { index: where.index };
}

/** @throws AppError QSYS_UNKNOWN_COMPONENT with suggestions. */
export function requireComponent(catalog: Catalog, component: string, where: Where = {}): CatalogComponent {
  const found = catalog.components.get(component);
  if (found !== undefined) return found;
  const suggestions = closestNames(component, catalog.components.keys());
  throw new AppError('QSYS_UNKNOWN_COMPONENT', `Unknown component '${component}'.${didYouMean(suggestions)}`, {
    details: { component, field: 'component', suggestions, ...at(where) },
  });
}

/**
 * @throws AppError QSYS_UNKNOWN_CONTROL with suggestions. A component whose controls could not
 * be read at discovery (none known) is not checked.
 */
export function requireControl(component: CatalogComponent, control: string, where: Where = {}): ControlState | undefined {
  if (component.controls.size === 0) return undefined;
  const found = component.controls.get(control);
  if (found !== undefined) return found;
  const suggestions = closestNames(control, component.controls.keys());
  throw new AppError('QSYS_UNKNOWN_CONTROL', `Unknown control '${control}' of component '${component.name}'.${didYouMean(suggestions)}`, {
    details: { component: component.name, control, controls: [control], field: 'control', suggestions, ...at(where) },
  });
}

const NUMERIC_TYPES = new Set(['Float', 'Integer']);

/** What a control of `type` accepts, in words; undefined when any value goes. */
function expectedFor(type: string | undefined): string | undefined {
  if (type === undefined) return undefined;
  if (NUMERIC_TYPES.has(type)) return 'number';
  if (type === 'Boolean') return 'boolean or 0/1';
  if (type === 'Text') return 'string';
  return undefined;
}

function typeMatches(type: string | undefined, value: ControlValue): boolean {
  if (type === undefined) return true;
  if (NUMERIC_TYPES.has(type)) return typeof value === 'number';
  if (type === 'Boolean') return typeof value === 'boolean' || typeof value === 'number';
  if (type === 'Text') return typeof value === 'string';
  return true;
}

/**
 * Checks one write against the control's metadata: not read-only, a value of the right type,
 * and numbers within ValueMin..ValueMax.
 * @throws AppError QSYS_CONTROL_READ_ONLY, QSYS_VALUE_TYPE_MISMATCH or QSYS_VALUE_OUT_OF_RANGE.
 */
export function checkWrite(
  meta: ControlState,
  write: { value?: ControlValue | undefined; position?: number | undefined },
  where: Where = {},
): void {
  if (meta.direction === 'Read Only') {
    throw new AppError('QSYS_CONTROL_READ_ONLY', `Control ${described(meta)} is read-only`, {
      details: { ...base(meta, where), field: 'control', direction: meta.direction },
    });
  }
  const value = write.value;
  if (value === undefined) return;
  if (!typeMatches(meta.type, value)) {
    const expected = expectedFor(meta.type);
    throw new AppError('QSYS_VALUE_TYPE_MISMATCH', `Control ${described(meta)} is ${meta.type}: it takes a ${expected}, not a ${typeof value}`, {
      details: { ...base(meta, where), field: 'value', type: meta.type, expected, got: value },
    });
  }
  if (typeof value === 'number' && meta.valueMin !== undefined && meta.valueMax !== undefined) {
    if (value < meta.valueMin || value > meta.valueMax) {
      throw new AppError('QSYS_VALUE_OUT_OF_RANGE', `Value ${value} is outside the range of control ${described(meta)}: ${meta.valueMin} to ${meta.valueMax}`, {
        details: { ...base(meta, where), field: 'value', valueMin: meta.valueMin, valueMax: meta.valueMax, got: value },
      });
    }
  }
}

// The name and details of a refused write are built only when one is refused: checkWrite runs
// for every control of every write, and building them up front was 3 % of the connector's CPU
// on 16-control writes (bench profile).
function described(meta: ControlState): string {
  return meta.component === undefined ? `'${meta.name}'` : `'${meta.name}' of component '${meta.component}'`;
}

function base(meta: ControlState, where: Where): Record<string, unknown> {
  return { ...(meta.component === undefined ? {} : { component: meta.component }), control: meta.name, ...at(where) };
}

/**
 * Refuses a value write to a Trigger control: a Trigger is fired, not set (`control.trigger`,
 * the tool `qsys.trigger_control`). A control of unknown type is not refused.
 * @throws AppError INVALID_PARAMS naming `qsys.trigger_control` (`details.tool`).
 */
export function refuseTrigger(meta: ControlState, where: Where = {}): void {
  if (meta.type !== 'Trigger') return;
  throw new AppError('INVALID_PARAMS', `Control ${described(meta)} is a Trigger: fire it with qsys.trigger_control, it takes no value`, {
    details: { ...base(meta, where), field: 'control', type: 'Trigger', tool: 'qsys.trigger_control' },
  });
}

/**
 * Refuses firing a control that is not a Trigger (a value of it is set with `control.set`, the
 * tool `qsys.set_control`). A control of unknown type is not refused.
 * @throws AppError INVALID_PARAMS naming `qsys.set_control` (`details.tool`).
 */
export function requireTrigger(meta: ControlState, where: Where = {}): void {
  if (meta.type === undefined || meta.type === 'Trigger') return;
  throw new AppError('INVALID_PARAMS', `Control ${described(meta)} is ${meta.type}, not a Trigger: set its value with qsys.set_control`, {
    details: { ...base(meta, where), field: 'control', type: meta.type, tool: 'qsys.set_control' },
  });
}
