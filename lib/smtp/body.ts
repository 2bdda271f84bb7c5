/**
 * The DATA body: streaming CRLF normalisation and dot-stuffing (RFC 5321 §4.5.2) that keep their
 * state across chunk boundaries, so no chunking lets a lone "." line or a bare LF/CR through
 * (SMTP smuggling, R9). Plus helpers that tell whether a message needs 8BITMIME or SMTPUTF8.
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const END_AFTER_LINE = new Uint8Array([DOT, CR, LF]);
const END_MID_LINE = new Uint8Array([CR, LF, DOT, CR, LF]);

/**
 * Streaming body encoder: bare LF and bare CR become CRLF, a "." starting a line becomes "..",
 * and `finish()` returns the terminator ("\r\n.\r\n", or ".\r\n" when the body already ended a line).
 * @example
 * const enc = new BodyEncoder();
 * const out = [enc.encode(bytesA), enc.encode(bytesB), enc.finish()]; // write these after 354
 */
export class BodyEncoder {
  private lineStart = true;
  private pendingCR = false;
  private finished = false;

  /** Encodes the next chunk of the raw message; the result may be empty. */
  encode(chunk: Uint8Array): Uint8Array {
    if (this.finished) throw new Error("BodyEncoder.encode() called after finish()");
    const out = new Uint8Array(chunk.length * 2 + 2);
    let o = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.pendingCR) {
        this.pendingCR = false;
        out[o++] = CR;
        out[o++] = LF;
        this.lineStart = true;
        if (b === LF) continue;
      }
      if (b === CR) {
        this.pendingCR = true;
      } else if (b === LF) {
        out[o++] = CR;
        out[o++] = LF;
        this.lineStart = true;
      } else {
        if (this.lineStart && b === DOT) out[o++] = DOT;
        out[o++] = b;
        this.lineStart = false;
      }
    }
    return out.subarray(0, o);
  }

  /** Ends the body: flushes a trailing CR as CRLF and returns the bytes up to and including "\r\n.\r\n". */
  finish(): Uint8Array {
    if (this.finished) throw new Error("BodyEncoder.finish() called twice");
    this.finished = true;
    if (this.pendingCR) {
      this.pendingCR = false;
      const out = new Uint8Array(5);
      out.set([CR, LF, DOT, CR, LF]);
      return out;
    }
    return (this.lineStart ? END_AFTER_LINE : END_MID_LINE).slice();
  }
}

/**
 * Encodes a whole message at once (normalised, dot-stuffed, terminated).
 * @example new TextDecoder().decode(encodeBody(new TextEncoder().encode(".x\n"))) // "..x\r\n.\r\n"
 */
export function encodeBody(message: Uint8Array): Uint8Array {
  const enc = new BodyEncoder();
  const a = enc.encode(message);
  const b = enc.finish();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Size for MAIL SIZE= (RFC 1870): octets after CRLF normalisation, without dot-stuffing or terminator.
 * @example messageSize(new TextEncoder().encode("a\nb")) // 4
 */
export function messageSize(message: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < message.length; i++) {
    const b = message[i];
    if (b === CR) {
      n += 2;
      if (message[i + 1] === LF) i++;
    } else if (b === LF) {
      n += 2;
    } else {
      n++;
    }
  }
  return n;
}

/** True when any byte is ≥ 0x80 (the body needs BODY=8BITMIME). @example has8bit(new Uint8Array([0xc3, 0xa9])) // true */
export function has8bit(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return true;
  return false;
}

/** The header section of a raw message: the bytes before the first empty line (all bytes if none). */
export function headerSection(message: Uint8Array): Uint8Array {
  for (let i = 0; i < message.length; i++) {
    if (message[i] !== LF) continue;
    if (message[i + 1] === LF) return message.subarray(0, i + 1);
    if (message[i + 1] === CR && message[i + 2] === LF) return message.subarray(0, i + 1);
  }
  return message;
}

/**
 * True when the transaction needs SMTPUTF8 (RFC 6531): a non-ASCII envelope address, or raw
 * UTF-8 in the message header section (RFC 6532).
 * @example needsSmtpUtf8({ from: "a@x", recipients: ["josé@x"] }) // true
 */
export function needsSmtpUtf8(
  envelope: { from: string; recipients: readonly string[] },
  message?: Uint8Array,
): boolean {
  // deno-lint-ignore no-control-regex
  const nonAscii = /[^\x00-\x7f]/;
  if (nonAscii.test(envelope.from) || envelope.recipients.some((r) => nonAscii.test(r))) return true;
  return message ? has8bit(headerSection(message)) : false;
}
