/**
 * Reading a message the way sendmail(8) reads it from stdin, in one streaming pass: the header
 * section is collected (bounded), handed to a rewrite step (remove Bcc, add From/Date/Message-ID),
 * and written out; the body passes through chunk by chunk, so memory stays flat whatever its size.
 *
 * Invariants:
 * - Bytes are never re-encoded: header fields are kept as the bytes they came as (only their line
 *   endings become CRLF) and body bytes are copied as they are; line endings of the body are left
 *   to the raw-message path (lib/message/raw.ts normalises them when sending).
 * - Unless `ignoreDots` (sendmail -i / -oi), a line holding a single "." ends the message, as in
 *   classic sendmail and Postfix: the "." line and anything after it are not part of the message.
 *   Other lines starting with "." are kept as they are (dot-stuffing is the SMTP encoder's job).
 * - The header ends at the empty line, or at the first line that is neither a header field nor a
 *   continuation (that line is the body's first line; an empty line is put before it). A message
 *   without any header field is all body. A leading mbox "From " line is dropped, as sendmail does.
 * - The header section is capped (MAX_HEADER octets): more is MESSAGE_INVALID, never unbounded memory.
 * @module
 */
import { MailplanError } from "../codes.ts";

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = new Uint8Array([CR, LF]);

/** Largest header section kept in memory. */
export const MAX_HEADER = 1024 * 1024;

/** One header field as read: its name and its lines (folded lines kept), bytes as they came. */
export interface HeaderField {
  /** The field name as written (case kept). */
  name: string;
  /** The field's physical lines without line endings; the first holds "Name:". */
  lines: Uint8Array[];
}

/**
 * The unfolded value of a field, decoded as UTF-8 (RFC 6532), without the leading white space.
 * @example fieldValue({ name: "To", lines: [enc("To: a@x,"), enc(" b@y")] }) // "a@x, b@y"
 */
export function fieldValue(field: HeaderField): string {
  const text = field.lines.map((l) => new TextDecoder().decode(l)).join("");
  return text.slice(text.indexOf(":") + 1).replace(/^[ \t]+/, "");
}

/**
 * A new header field from a name and a value, as one line (callers fold long values themselves).
 * @example makeField("Date", "Mon, 03 Feb 2025 04:05:06 +0000")
 */
export function makeField(name: string, value: string): HeaderField {
  if (/[\r\n\0]/.test(value)) {
    throw new MailplanError("MESSAGE_INVALID", `The ${name} header value contains a line break or NUL.`, "a line break in a header would inject headers; remove it");
  }
  return { name, lines: [new TextEncoder().encode(`${name}: ${value}`)] };
}

/** What the rewrite step returns: the fields to write, in order. */
export type HeaderRewrite = (fields: HeaderField[]) => HeaderField[];

/** The two ways a message read from stdin ends. */
export type EndedBy = "eof" | "dot";

function isFieldStart(line: Uint8Array): boolean {
  const colon = line.indexOf(0x3a);
  if (colon <= 0) return false;
  for (let i = 0; i < colon; i++) if (line[i] < 0x21 || line[i] > 0x7e) return false;
  return true;
}

const startsWithFromSpace = (l: Uint8Array) => l.length >= 5 && l[0] === 0x46 && l[1] === 0x72 && l[2] === 0x6f && l[3] === 0x6d && l[4] === 0x20;
const isLoneDot = (l: Uint8Array) => l.length === 1 && l[0] === DOT;

/**
 * The sendmail-style reader as a push parser: feed raw chunks with `push`, call `end()` at EOF.
 * Each returns the bytes to write out (possibly none). Once `ended` is set (a lone "." line), the
 * caller stops reading; further pushes return nothing.
 * @example
 * const r = new SubmissionReader({ ignoreDots: false, rewrite: (f) => f.filter((x) => !/^bcc$/i.test(x.name)) });
 * const out = [...r.push(bytes), ...r.end()]; // header rewritten, body as is
 */
export class SubmissionReader {
  /** Set when the message ended: "dot" after a lone "." line, "eof" after end(). */
  ended: EndedBy | null = null;
  private inHeader = true;
  private firstLine = true;
  private fields: HeaderField[] = [];
  private headerBytes = 0;
  private line: number[] = [];
  /** A line just ended with CR: an LF right after it belongs to the same line ending. */
  private skipLf = false;
  /** Body state: at the beginning of a line, and a "." at the beginning of a line held back. */
  private bol = true;
  private dotHeld = false;
  private readonly ignoreDots: boolean;
  private readonly rewrite: HeaderRewrite;

  constructor(opts: { ignoreDots: boolean; rewrite: HeaderRewrite }) {
    this.ignoreDots = opts.ignoreDots;
    this.rewrite = opts.rewrite;
  }

  /** Reads the next chunk; returns the output bytes it completes. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length && this.ended === null) {
      if (this.inHeader) i = this.headerBytesFrom(chunk, i, out);
      else i = this.bodyBytesFrom(chunk, i, out);
    }
    return out;
  }

  /** End of input: flushes what is held back (a final header line, the header itself). */
  end(): Uint8Array[] {
    if (this.ended !== null) return [];
    const out: Uint8Array[] = [];
    if (this.inHeader) {
      if (this.line.length > 0) this.headerLine(out, true);
      if (this.inHeader) this.finishHeader(out, null);
    } else if (this.dotHeld) {
      this.ended = "dot"; // a last line holding only "." (no line break): still the terminator
      return out;
    }
    this.ended = "eof";
    return out;
  }

  /** Header mode: collects bytes into lines until the header ends; returns the index reached. */
  private headerBytesFrom(chunk: Uint8Array, i: number, out: Uint8Array[]): number {
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.skipLf) {
        this.skipLf = false;
        if (b === LF) continue; // the LF of a CRLF whose CR ended the line
      }
      if (b === CR || b === LF) {
        this.skipLf = b === CR;
        this.headerLine(out, false);
        if (!this.inHeader || this.ended !== null) return i + 1;
      } else {
        if (++this.headerBytes > MAX_HEADER) {
          throw new MailplanError("MESSAGE_INVALID", `The message header is larger than ${MAX_HEADER / 1024} KiB.`, "check that an empty line separates the header from the body");
        }
        this.line.push(b);
      }
    }
    return i;
  }

  /** A complete header-section line (its ending already consumed). */
  private headerLine(out: Uint8Array[], atEof: boolean): void {
    const line = new Uint8Array(this.line);
    this.line = [];
    const first = this.firstLine;
    this.firstLine = false;
    if (!this.ignoreDots && isLoneDot(line)) {
      this.finishHeader(out, null);
      this.ended = "dot";
      return;
    }
    if (first && startsWithFromSpace(line)) return; // mbox "From " line: sendmail drops it
    if (line.length === 0) {
      this.finishHeader(out, null);
      return;
    }
    if ((line[0] === 0x20 || line[0] === 0x09) && this.fields.length > 0) {
      this.fields[this.fields.length - 1].lines.push(line);
      return;
    }
    if (isFieldStart(line)) {
      const colon = line.indexOf(0x3a);
      this.fields.push({ name: new TextDecoder().decode(line.subarray(0, colon)).trim(), lines: [line] });
      return;
    }
    // Not a header line: the body starts here (this line is its first line).
    this.finishHeader(out, line);
    if (!atEof) {
      out.push(CRLF);
      this.bol = true;
    } else this.bol = false;
  }

  /** Writes the rewritten header and the empty line; `firstBodyLine` is a line already read. */
  private finishHeader(out: Uint8Array[], firstBodyLine: Uint8Array | null): void {
    this.inHeader = false;
    for (const f of this.rewrite(this.fields)) {
      for (const l of f.lines) out.push(l, CRLF);
    }
    out.push(CRLF);
    this.fields = [];
    if (firstBodyLine) out.push(firstBodyLine);
  }

  /** Body mode: copies bytes, watching for a lone "." line unless dots are ignored. */
  private bodyBytesFrom(chunk: Uint8Array, i: number, out: Uint8Array[]): number {
    if (this.skipLf) {
      this.skipLf = false;
      if (chunk[i] === LF) i++; // the LF of the CRLF that ended the header (or the first body line)
    }
    if (i >= chunk.length) return i;
    if (this.ignoreDots) {
      out.push(chunk.slice(i));
      return chunk.length;
    }
    let from = i;
    for (; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.dotHeld) {
        this.dotHeld = false;
        if (b === LF || b === CR) {
          this.ended = "dot";
          return chunk.length;
        }
        out.push(new Uint8Array([DOT])); // a line that only starts with "."
        from = i;
      }
      if (this.bol && b === DOT) {
        if (i > from) out.push(chunk.slice(from, i));
        this.dotHeld = true;
        this.bol = false;
        from = i + 1;
        continue;
      }
      this.bol = b === LF || b === CR;
    }
    if (i > from) out.push(chunk.slice(from, i));
    return i;
  }
}
