/**
 * Line-ending normalisation: bare LF and bare CR become CRLF, with state kept across chunk
 * boundaries so a CR at the end of one chunk and an LF at the start of the next stay one CRLF.
 * @module
 */
import { transformChunks } from "./chunk-transform.ts";

const CR = 0x0d;
const LF = 0x0a;

/**
 * Streaming CRLF normaliser. Only line endings change; every other byte passes through.
 * @example
 * const n = new CrlfNormalizer();
 * [n.push(a), n.push(b), n.end()] // concatenation is `a + b` with CRLF line endings
 */
export class CrlfNormalizer {
  private pendingCR = false;

  /**
   * Normalises the next chunk into a new array of exactly the output size (the input is not kept,
   * so the caller may reuse it); a trailing CR is held back until the next byte is known.
   */
  push(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    let i = 0;
    let lead = false;
    if (this.pendingCR && n > 0) {
      this.pendingCR = false;
      lead = true;
      if (chunk[0] === LF) i = 1;
    }
    // First pass: output size (each bare CR or bare LF gains one byte; a final CR is held back).
    let size = lead ? 2 : 0;
    let hold = false;
    for (let k = i; k < n; k++) {
      const b = chunk[k];
      if (b === CR) {
        if (k + 1 === n) hold = true;
        else if (chunk[k + 1] === LF) {
          size += 2;
          k++;
        } else size += 2;
      } else if (b === LF) size += 2;
      else size++;
    }
    const out = new Uint8Array(size);
    let o = 0;
    if (lead) {
      out[o++] = CR;
      out[o++] = LF;
    }
    let from = i; // start of a run copied as is
    for (; i < n; i++) {
      const b = chunk[i];
      if (b !== CR && b !== LF) continue;
      out.set(chunk.subarray(from, i), o);
      o += i - from;
      if (b === CR && i + 1 === n) {
        from = n;
        break;
      }
      out[o++] = CR;
      out[o++] = LF;
      if (b === CR && chunk[i + 1] === LF) i++;
      from = i + 1;
    }
    if (from < n) {
      out.set(chunk.subarray(from, n), o);
      o += n - from;
    }
    this.pendingCR = this.pendingCR || hold;
    return out;
  }

  /** Flushes a held-back CR as CRLF. */
  end(): Uint8Array {
    if (!this.pendingCR) return new Uint8Array(0);
    this.pendingCR = false;
    return new Uint8Array([CR, LF]);
  }
}

/**
 * Normalises an async iterable of chunks; empty output chunks are skipped.
 * @example for await (const c of normalizeCrlf(chunks)) write(c);
 */
export function normalizeCrlf(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  return transformChunks(source, new CrlfNormalizer());
}

/** Splits text into lines on CRLF, LF or CR. @example splitLines("a\nb\r\nc") // ["a", "b", "c"] */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
