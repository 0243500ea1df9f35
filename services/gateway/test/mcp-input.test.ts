import { describe, expect, it } from 'vitest';
import { batchAllowed, charsetOf, hasProtoKey, isUtf8ContentType, paramsIssues, protoArgumentIds } from '../src/mcp-input.js';
import { isWellFormedHost } from '../src/host-check.js';

describe('MCP input checks', () => {
  it.each([
    ['application/json', undefined],
    ['application/json; charset=utf-8', 'utf-8'],
    ['application/json;CHARSET="UTF-16"', 'utf-16'],
    ['application/json; foo=bar; charset=latin1', 'latin1'],
  ])('reads the charset of %s', (header, charset) => {
    expect(charsetOf(header)).toBe(charset);
  });

  it('accepts only UTF-8 or no charset', () => {
    expect(isUtf8ContentType('application/json')).toBe(true);
    expect(isUtf8ContentType('application/json; charset=utf8')).toBe(true);
    expect(isUtf8ContentType('application/json; charset=utf-16')).toBe(false);
    expect(isUtf8ContentType('application/json; charset=')).toBe(false);
  });

  it('allows batches for 2025-03-26 and for requests without the header only', () => {
    expect(batchAllowed(undefined)).toBe(true);
    expect(batchAllowed('2025-03-26')).toBe(true);
    expect(batchAllowed('2025-06-18')).toBe(false);
    expect(batchAllowed('2025-11-25')).toBe(false);
    expect(batchAllowed('')).toBe(false);
    expect(batchAllowed(['2025-03-26', '2025-11-25'])).toBe(false);
  });

  it('names the invalid params of initialize, and none of a valid one or another method', () => {
    expect(paramsIssues({ method: 'initialize', params: {} }).map((i) => i.path)).toEqual(['params.protocolVersion', 'params.capabilities', 'params.clientInfo']);
    expect(paramsIssues({ method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'a', version: '1' } } })).toEqual([]);
    expect(paramsIssues({ method: 'tools/call', params: {} })).toEqual([]);
    expect(paramsIssues({ method: 'tools/list', params: { cursor: 1 } })).toMatchObject([{ path: 'params.cursor', code: 'invalid_type' }]);
  });

  it('finds an own __proto__ key, not an inherited one', () => {
    expect(hasProtoKey(JSON.parse('{"__proto__":1}'))).toBe(true);
    expect(hasProtoKey({ a: 1 })).toBe(false);
    expect(hasProtoKey(JSON.parse('[{"__proto__":1}]'))).toBe(false);
    expect(hasProtoKey(null)).toBe(false);
  });

  it('reads the internal header of ids, and nothing from a malformed one', () => {
    expect([...protoArgumentIds('["1","\\"a\\""]')]).toEqual(['1', '"a"']);
    expect(protoArgumentIds('not json').size).toBe(0);
    expect(protoArgumentIds(null).size).toBe(0);
  });

  it.each(['localhost', 'localhost:8080', '127.0.0.1:1', '[::1]:8080', 'mcp.example.com', 'qsys_gateway:8080'])('accepts the Host %s as well-formed', (host) => {
    expect(isWellFormedHost(host)).toBe(true);
  });

  it.each(['', ' ', ':80', 'user@localhost', 'localhost/x', 'localhost:99999', 'localhost:', 'a b', 'localhost?x', '[::1', undefined])('refuses the Host %s as malformed', (host) => {
    expect(isWellFormedHost(host)).toBe(false);
  });
});
