import { describe, expect, it } from 'vitest';
import { NulFrameDecoder, encodeNulFrame } from '../src/index.js';

function decodeAll(decoder: NulFrameDecoder, chunks: Array<Buffer | string>): string[] {
  const frames: string[] = [];
  for (const chunk of chunks) decoder.push(chunk, (f) => frames.push(f));
  return frames;
}

describe('NulFrameDecoder', () => {
  it('splits several frames in one chunk', () => {
    const frames = decodeAll(new NulFrameDecoder(), [Buffer.from('{"a":1}\0{"b":2}\0{"c":3}\0')]);
    expect(frames).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('joins a frame split across chunks and keeps the tail for later', () => {
    const decoder = new NulFrameDecoder();
    expect(decodeAll(decoder, [Buffer.from('{"a"'), Buffer.from(':1}\0{"b"')])).toEqual(['{"a":1}']);
    expect(decoder.pendingLength).toBe(4);
    expect(decodeAll(decoder, [Buffer.from(':2}\0')])).toEqual(['{"b":2}']);
    expect(decoder.pendingLength).toBe(0);
  });

  it('decodes a UTF-8 character cut between two chunks', () => {
    const bytes = Buffer.from(encodeNulFrame('{"n":"Zone é"}'));
    const cut = bytes.indexOf(Buffer.from('é')) + 1;
    const frames = decodeAll(new NulFrameDecoder(), [bytes.subarray(0, cut), bytes.subarray(cut)]);
    expect(frames).toEqual(['{"n":"Zone é"}']);
  });

  it('feeds byte by byte', () => {
    const bytes = Buffer.from(`${encodeNulFrame('{"x":"ü"}')}${encodeNulFrame('{"y":2}')}`);
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(decodeAll(new NulFrameDecoder(), chunks)).toEqual(['{"x":"ü"}', '{"y":2}']);
  });

  it('skips empty frames from stray NULs', () => {
    expect(decodeAll(new NulFrameDecoder(), ['\0\0{"a":1}\0\0'])).toEqual(['{"a":1}']);
  });

  it('throws RangeError when an unterminated frame grows beyond the limit, and drops it', () => {
    const decoder = new NulFrameDecoder(10);
    expect(() => decodeAll(decoder, ['0123456789abc'])).toThrow(RangeError);
    expect(decoder.pendingLength).toBe(0);
  });
});
