/** Deepest JSON nesting accepted in an MCP request body by default (objects and arrays, levels). */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * Settings allowed for that limit, levels: MCP requests need about 8; far above 1000 the SDK's
 * recursive re-serialisation of the body comes near the stack's end.
 */
export const MAX_JSON_DEPTH_RANGE = Object.freeze({ min: 16, max: 1000 });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The deepest nesting of objects and arrays in JSON text (`{}` is 1, `[[1]]` is 2, a scalar 0),
 * measured by one pass over the characters with a counter (no recursion, no parse), so that a
 * body nested a million levels deep cannot overflow the stack here. Brackets inside strings do
 * not count. Stops as soon as the depth passes `stopAbove` and returns that depth.
 *
 * Malformed text gets a number too (unbalanced brackets are counted as they come); `JSON.parse`
 * refuses it afterwards.
 */
export function jsonDepth(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return deepest;
}
