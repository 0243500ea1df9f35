import { AppError } from '@qsys-mcp/contracts';

// NATS subject rules, checked the same way by both adapters so that code that works on the
// in-memory bus does not fail later on NATS: dot-separated non-empty tokens, no whitespace;
// `*` matches one token and `>` one or more trailing tokens (only in subscriptions).

const WHITESPACE = /\s/u;

function invalidSubject(subject: string, reason: string): AppError {
  return new AppError('INVALID_PARAMS', `Invalid subject '${subject}': ${reason}`, { details: { subject, reason } });
}

/** Dot-separated tokens of letters, digits, `_` and `-`: valid everywhere, decided by one test. */
const PLAIN_SUBJECT = /^[\w-]+(?:\.[\w-]+)*$/;

function checkTokens(subject: string, allowWildcards: boolean): void {
  // Every subject the services use (qsys.<core>.<op>, audit.events.<tool>) takes this path:
  // no split, no closure per request.
  if (PLAIN_SUBJECT.test(subject)) return;
  if (subject.length === 0) throw invalidSubject(subject, 'empty');
  if (WHITESPACE.test(subject)) throw invalidSubject(subject, 'contains whitespace');
  const tokens = subject.split('.');
  tokens.forEach((token, index) => {
    if (token.length === 0) throw invalidSubject(subject, 'empty token');
    if (token === '*' || token === '>') {
      if (!allowWildcards) throw invalidSubject(subject, 'wildcards are only allowed in subscriptions');
      if (token === '>' && index !== tokens.length - 1) throw invalidSubject(subject, "'>' must be the last token");
    }
  });
}

/**
 * Checks a subject that a message is published to (no wildcards).
 * @throws AppError `INVALID_PARAMS` when the subject is empty, has empty tokens, whitespace or wildcards.
 */
export function assertPublishSubject(subject: string): void {
  checkTokens(subject, false);
}

/**
 * Checks a subscription subject (wildcards `*` and a trailing `>` allowed).
 * @throws AppError `INVALID_PARAMS` when the subject is malformed.
 */
export function assertSubscribeSubject(subject: string): void {
  checkTokens(subject, true);
}

/** True when the concrete `subject` matches the subscription `pattern` (NATS wildcard rules). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * True when some subject can match both patterns (used to refuse streams with overlapping
 * subjects, as JetStream does).
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const tx = x[i];
    const ty = y[i];
    if (tx === '>' || ty === '>') return tx !== undefined && ty !== undefined;
    if (tx === undefined || ty === undefined) return false;
    if (tx !== '*' && ty !== '*' && tx !== ty) return false;
  }
  return true;
}
