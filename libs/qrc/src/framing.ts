import { StringDecoder } from 'node:string_decoder';

/** The QRC TCP frame terminator: every JSON message ends with one NUL byte, both ways. */
export const NUL_TERMINATOR = '\0';

/** Largest frame accepted on any transport, bytes (a large design's component list is a few MB). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Appends the NUL terminator to one JSON text: the QRC TCP wire form of a message. */
export function encodeNulFrame(json: string): string {
  return json + NUL_TERMINATOR;
}

/**
 * Splits a NUL-terminated byte stream (QRC over TCP) into frames. Chunks may hold several
 * frames or part of one, and may cut a UTF-8 character in two: bytes are decoded with a
 * `StringDecoder`, and the text after the last NUL waits for the next chunk. Empty frames
 * (stray NULs) are skipped.
 */
export class NulFrameDecoder {
  readonly #decoder = new StringDecoder('utf8');
  readonly #maxFrameChars: number;
  #partial = '';

  /** @param maxFrameChars longest frame kept while waiting for its NUL. @default MAX_FRAME_BYTES */
  constructor(maxFrameChars: number = MAX_FRAME_BYTES) {
    this.#maxFrameChars = maxFrameChars;
  }

  /** Characters held from an unterminated frame. */
  get pendingLength(): number {
    return this.#partial.length;
  }

  /**
   * Feeds one chunk and calls `onFrame` once per complete frame, in order.
   *
   * @throws RangeError when an unterminated frame grows beyond `maxFrameChars` (the buffer is
   *   dropped; the caller should close the connection, the stream cannot be resynchronised).
   */
  push(chunk: Buffer | string, onFrame: (frame: string) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    let end = text.indexOf(NUL_TERMINATOR);
    if (end === -1) {
      this.#partial += text;
      this.#checkSize();
      return;
    }
    const first = this.#partial + text.slice(0, end);
    this.#partial = '';
    if (first.length > 0) onFrame(first);
    let start = end + 1;
    while ((end = text.indexOf(NUL_TERMINATOR, start)) !== -1) {
      if (end > start) onFrame(text.slice(start, end));
      start = end + 1;
    }
    this.#partial = text.slice(start);
    this.#checkSize();
  }

  /** Drops any partial frame (after a disconnect). */
  reset(): void {
    this.#partial = '';
    this.#decoder.end();
  }

  #checkSize(): void {
    if (this.#partial.length > this.#maxFrameChars) {
      const length = this.#partial.length;
      this.#partial = '';
      throw new RangeError(`QRC frame exceeds ${this.#maxFrameChars} characters without a NUL terminator (${length} buffered)`);
    }
  }
}
