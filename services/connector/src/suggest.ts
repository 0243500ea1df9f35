/** Most suggestions returned for an unknown name. */
export const MAX_SUGGESTIONS = 3;

/** Levenshtein distance between two strings (case already folded by the caller). */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let curr = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    curr[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      curr[j] = Math.min(prev[j]! + 1, curr[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, curr] = [curr, prev];
  }
  return prev[b.length]!;
}

/**
 * The names closest to `target` (case-insensitive edit distance, with a name that contains
 * the target or is contained in it ranked first), at most {@link MAX_SUGGESTIONS}, and only
 * those close enough to be a plausible typo (distance at most half the longer name).
 */
export function closestNames(target: string, candidates: Iterable<string>, max = MAX_SUGGESTIONS): string[] {
  const t = target.toLowerCase();
  const scored: Array<{ name: string; score: number }> = [];
  for (const name of candidates) {
    const n = name.toLowerCase();
    const d = distance(t, n);
    const contains = t.length >= 3 && (n.includes(t) || t.includes(n));
    if (!contains && d > Math.max(t.length, n.length) / 2) continue;
    scored.push({ name, score: contains ? d / 100 : d });
  }
  return scored
    .sort((x, y) => x.score - y.score || x.name.localeCompare(y.name))
    .slice(0, max)
    .map((s) => s.name);
}

/** " Did you mean 'A' or 'B'?" or "" when there is nothing to suggest. */
export function didYouMean(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return '';
  const quoted = suggestions.map((s) => `'${s}'`);
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
  return ` Did you mean ${list}?`;
}
