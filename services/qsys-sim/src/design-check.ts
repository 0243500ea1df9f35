/** Small validators that record problems with their JSON path instead of throwing. */

/** A JSON object. */
export type Obj = Record<string, unknown>;

/** Collects every problem of a design with the JSON path where it is. */
export class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

/** Whether `v` is a JSON object (not an array, not null). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Records every key of `o` not in `allowed` (catches typos such as `Valuemin`). */
export function checkKeys(p: Problems, path: string, o: Obj, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) p.add(`${path}.${key}`, `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

/** A non-empty string, or undefined with a problem recorded (when required or of the wrong type). */
export function str(p: Problems, path: string, v: unknown, required: boolean): string | undefined {
  if (v === undefined) {
    if (required) p.add(path, 'is required (a non-empty string)');
    return undefined;
  }
  if (typeof v !== 'string' || v === '') {
    p.add(path, 'must be a non-empty string');
    return undefined;
  }
  return v;
}

/** A finite number, or undefined (a problem is recorded when present but not a number). */
export function num(p: Problems, path: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    p.add(path, 'must be a finite number');
    return undefined;
  }
  return v;
}

/** A boolean, or `fallback` (a problem is recorded when present but not a boolean). */
export function bool(p: Problems, path: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') {
    p.add(path, 'must be true or false');
    return fallback;
  }
  return v;
}

/** One of `values`, or `fallback` (a problem is recorded when missing without fallback, or not allowed). */
export function oneOf<T extends string>(p: Problems, path: string, v: unknown, values: readonly T[], fallback: T | undefined): T | undefined {
  if (v === undefined) {
    if (fallback === undefined) p.add(path, `is required (one of ${values.join(', ')})`);
    return fallback;
  }
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    p.add(path, `must be one of ${values.join(', ')}`);
    return fallback;
  }
  return v as T;
}

/** An array of strings, or undefined (a problem is recorded when present but not one). */
export function stringArray(p: Problems, path: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    p.add(path, 'must be an array of strings');
    return undefined;
  }
  return v as string[];
}

