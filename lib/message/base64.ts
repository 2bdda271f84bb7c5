/**
 * Streaming base64 for attachment bodies (RFC 2045 §6.8): 76-character lines, CRLF after each,
 * state carried across chunks so any chunking gives the same bytes.
 * @module
 */
import { transformChunks } from "./chunk-transform.ts";

const LINE_BYTES = 57; // 57 input bytes → 76 base64 characters
const ALPHABET = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 0x3d;

/** Encoded size in octets of `n` input bytes (CRLF after every line, including the last). */
export function base64Size(n: number): number {
  const chars = Math.ceil(n / 3) * 4;
  return chars + 2 * Math.ceil(chars / 76);
}

/**
 * Streaming encoder: `push` returns whole lines for the complete 57-byte groups seen so far,
 * `end` the last (padded) line. Input chunks are not kept (callers may reuse them); each result
 * is a new array of exactly its size.
 * @example const e = new Base64Encoder(); const text = [e.push(a), e.push(b), e.end()];
 */
export class Base64Encoder {
  private readonly carry = new Uint8Array(LINE_BYTES);
  private carried = 0;

  /** Encodes the next chunk; returns the complete lines it yields (possibly none). */
  push(chunk: Uint8Array): Uint8Array {
    const total = this.carried + chunk.length;
    const lines = Math.floor(total / LINE_BYTES);
    const out = new Uint8Array(lines * 78);
    let o = 0;
    let i = 0; // position in chunk
    if (lines > 0 && this.carried > 0) {
      const need = LINE_BYTES - this.carried;
      this.carry.set(chunk.subarray(0, need), this.carried);
      o = encodeLine(this.carry, 0, LINE_BYTES, out, o);
      i = need;
      this.carried = 0;
    }
    while (chunk.length - i >= LINE_BYTES && (this.carried === 0)) {
      o = encodeLine(chunk, i, i + LINE_BYTES, out, o);
      i += LINE_BYTES;
    }
    this.carry.set(chunk.subarray(i), this.carried);
    this.carried += chunk.length - i;
    return out;
  }

  /** Encodes what is left. */
  end(): Uint8Array {
    const out = new Uint8Array(this.carried === 0 ? 0 : base64Size(this.carried));
    if (this.carried > 0) encodeLine(this.carry, 0, this.carried, out, 0);
    this.carried = 0;
    return out;
  }
}

/** Encodes src[from, to) (at most 57 bytes) as one line plus CRLF into `out` at `o`; returns the new offset. */
function encodeLine(src: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  let i = from;
  for (; i + 3 <= to; i += 3) {
    const n = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
    out[o++] = ALPHABET[n >>> 18];
    out[o++] = ALPHABET[(n >>> 12) & 63];
    out[o++] = ALPHABET[(n >>> 6) & 63];
    out[o++] = ALPHABET[n & 63];
  }
  const rest = to - i;
  if (rest > 0) {
    const n = (src[i] << 16) | (rest === 2 ? src[i + 1] << 8 : 0);
    out[o++] = ALPHABET[n >>> 18];
    out[o++] = ALPHABET[(n >>> 12) & 63];
    out[o++] = rest === 2 ? ALPHABET[(n >>> 6) & 63] : PAD;
    out[o++] = PAD;
  }
  out[o++] = 0x0d;
  out[o++] = 0x0a;
  return o;
}

/**
 * Base64-encodes a stream of chunks into a stream of CRLF-terminated lines.
 * @example for await (const lines of base64Stream(readFileChunks("a.pdf"))) write(lines);
 */
export function base64Stream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  return transformChunks(source, new Base64Encoder());
}
