import { describe, expect, it } from 'vitest';
import type { AppError } from '@qsys-mcp/contracts';
import { assertPublishSubject, assertSubscribeSubject } from '../src/subject.js';

function reasonOf(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (err) {
    expect((err as AppError).code).toBe('INVALID_PARAMS');
    return (err as AppError).details?.reason as string;
  }
}

describe('subject checks', () => {
  it('accepts the subjects the services use and other NATS literals', () => {
    for (const subject of ['qsys.main.component.get', 'audit.events.qsys-set_controls', '$SRV.PING', '$JS.API.STREAM.INFO.AUDIT', 'a*b.c>d', 'x']) {
      expect(reasonOf(() => assertPublishSubject(subject)), subject).toBeUndefined();
      expect(reasonOf(() => assertSubscribeSubject(subject)), subject).toBeUndefined();
    }
    expect(reasonOf(() => assertSubscribeSubject('qsys.*.events.>'))).toBeUndefined();
    expect(reasonOf(() => assertSubscribeSubject('>'))).toBeUndefined();
  });

  it('names what is wrong with a malformed subject', () => {
    expect(reasonOf(() => assertPublishSubject(''))).toBe('empty');
    expect(reasonOf(() => assertPublishSubject('a..b'))).toBe('empty token');
    expect(reasonOf(() => assertPublishSubject('.a'))).toBe('empty token');
    expect(reasonOf(() => assertPublishSubject('a.'))).toBe('empty token');
    expect(reasonOf(() => assertPublishSubject('a b'))).toBe('contains whitespace');
    expect(reasonOf(() => assertPublishSubject('a.\tb'))).toBe('contains whitespace');
    expect(reasonOf(() => assertPublishSubject('a.*'))).toBe('wildcards are only allowed in subscriptions');
    expect(reasonOf(() => assertPublishSubject('a.>'))).toBe('wildcards are only allowed in subscriptions');
    expect(reasonOf(() => assertSubscribeSubject('a.>.b'))).toBe("'>' must be the last token");
    expect(reasonOf(() => assertSubscribeSubject('a..*'))).toBe('empty token');
  });
});
