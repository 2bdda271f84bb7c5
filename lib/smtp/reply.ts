/**
 * Incremental SMTP reply parser (RFC 5321 §4.2): fed arbitrary byte chunks, yields one complete
 * reply at a time. Strict: CRLF only, one code per reply, codes 200–599, bounded line, reply and
 * line-count sizes. Memory stays flat: it keeps at most one line (≤ maxLineBytes) and one reply
 * (≤ maxReplyBytes) besides the chunks handed to it and not yet consumed.
 * @module
 */
import { escapeServerText, type Phase, SmtpError } from "./errors.ts";

/** One parsed server reply. */
export interface Reply {
  /** Three-digit reply code, 200–599. */
  code: number;
  /** Enhanced status code (RFC 3463) of the first line, e.g. "2.0.0", when present and of the same class. */
  enhanced?: string;
  /** Text of each line after the code and separator (enhanced code kept), decoded as UTF-8. */
  lines: string[];
  /** The lines joined with "\n". */
  text: string;
}

/**
 * The class of a reply code by its first digit (RFC 5321 §4.2.1): 2yz positive completion,
 * 3yz positive intermediate (354 "send the data", 334 an AUTH challenge), 4yz transient negative
 * (try again later; 421 closes the connection), 5yz permanent negative. A code outside 200–599
 * (which {@link ReplyParser} never yields) is `invalid`.
 */
export type ReplyClass = "positive" | "intermediate" | "transient" | "permanent" | "invalid";

/**
 * The class of a reply code, so callers compare words instead of ranges like `code >= 400 && code < 500`.
 * @example
 * replyClass(250) // => "positive"
 * replyClass(451) // => "transient"
 * replyClass(550) // => "permanent"
 */
export function replyClass(code: number): ReplyClass {
  if (!Number.isInteger(code) || code < 200 || code > 599) return "invalid";
  return code < 300 ? "positive" : code < 400 ? "intermediate" : code < 500 ? "transient" : "permanent";
}

/** Size bounds of the parser. */
export interface ReplyLimits {
  /** Maximum bytes in one line, CRLF excluded. Default 8192. */
  maxLineBytes: number;
  /** Maximum bytes in one reply, CRLFs included. Default 65536. */
  maxReplyBytes: number;
  /** Maximum lines in one reply. Default 1000. */
  maxReplyLines: number;
}

/** Default bounds of contract.md: line 8 KiB, reply 64 KiB, 1000 lines. */
export const DEFAULT_REPLY_LIMITS: Readonly<ReplyLimits> = Object.freeze({
  maxLineBytes: 8192,
  maxReplyBytes: 65536,
  maxReplyLines: 1000,
});

const CR = 0x0d;
const LF = 0x0a;
const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})(?= |$)/;
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Pull-based reply parser. `push()` bytes, then call `next()` until it returns null.
 * @example
 * const p = new ReplyParser();
 * p.push(new TextEncoder().encode("250-a\r\n250 b\r\n"));
 * p.next("ehlo"); // => { code: 250, lines: ["a", "b"], text: "a\nb" }
 */
export class ReplyParser {
  /** The bounds in force. */
  readonly limits: Readonly<ReplyLimits>;
  private chunks: Uint8Array[] = [];
  private offset = 0; // into chunks[0]
  private pending = 0; // unconsumed bytes across chunks
  private line: Uint8Array;
  private lineLen = 0;
  private sawCR = false;
  private code = 0;
  private lines: string[] = [];
  private replyBytes = 0;
  private failure: SmtpError | null = null;

  constructor(limits: Partial<ReplyLimits> = {}) {
    this.limits = Object.freeze({ ...DEFAULT_REPLY_LIMITS, ...limits });
    this.line = new Uint8Array(Math.min(this.limits.maxLineBytes, 1024));
  }

  /** Queues bytes from the server (the chunk is referenced, not copied; do not mutate it). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.pending += chunk.length;
  }

  /** Bytes received but not yet part of a returned reply (queued chunks, partial line, partial reply). */
  get buffered(): number {
    return this.pending + this.lineLen + (this.sawCR ? 1 : 0) + this.replyBytes;
  }

  /** Discards everything buffered (used when the transport changes, e.g. after STARTTLS). */
  reset(): void {
    this.chunks = [];
    this.offset = 0;
    this.pending = 0;
    this.lineLen = 0;
    this.sawCR = false;
    this.code = 0;
    this.lines = [];
    this.replyBytes = 0;
    this.failure = null;
  }

  /**
   * Parses the next complete reply from the queued bytes, or returns null when more bytes are needed.
   * Throws a PROTOCOL_ERROR {@link SmtpError} (attributed to `phase`) on malformed or oversized input;
   * once failed, the parser keeps failing.
   */
  next(phase: Phase = "greeting"): Reply | null {
    if (this.failure) throw this.failure.phase === phase ? this.failure : this.failure.withPhase(phase);
    try {
      return this.parse(phase);
    } catch (e) {
      if (e instanceof SmtpError) this.failure = e;
      throw e;
    }
  }

  /** Convenience: pushes a chunk and returns every reply it completes. */
  feed(chunk: Uint8Array, phase: Phase = "greeting"): Reply[] {
    this.push(chunk);
    const out: Reply[] = [];
    for (let r = this.next(phase); r; r = this.next(phase)) out.push(r);
    return out;
  }

  private parse(phase: Phase): Reply | null {
    const { maxLineBytes, maxReplyBytes } = this.limits;
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0];
      let i = this.offset;
      while (i < chunk.length) {
        const b = chunk[i++];
        this.pending--;
        if (this.sawCR) {
          if (b !== LF) {
            throw protocol(phase, "The server sent a carriage return that is not followed by a line feed.");
          }
          this.sawCR = false;
          const reply = this.endLine(phase);
          if (reply) {
            this.advance(chunk, i);
            return reply;
          }
          continue;
        }
        if (b === CR) {
          this.sawCR = true;
          continue;
        }
        if (b === LF) throw protocol(phase, "The server ended a line with a bare line feed instead of CRLF.");
        if (this.lineLen >= maxLineBytes) {
          throw protocol(phase, `The server sent a reply line longer than ${maxLineBytes} bytes.`);
        }
        if (this.replyBytes + this.lineLen + 1 > maxReplyBytes) {
          throw protocol(phase, `The server sent a reply longer than ${maxReplyBytes} bytes.`);
        }
        if (this.lineLen === this.line.length) {
          const bigger = new Uint8Array(Math.min(maxLineBytes, this.line.length * 2));
          bigger.set(this.line);
          this.line = bigger;
        }
        this.line[this.lineLen++] = b;
      }
      this.advance(chunk, i);
    }
    return null;
  }

  private advance(chunk: Uint8Array, i: number): void {
    if (i >= chunk.length) {
      this.chunks.shift();
      this.offset = 0;
    } else {
      this.offset = i;
    }
  }

  /** Completes the current line; returns a reply when it was the last line of one. */
  private endLine(phase: Phase): Reply | null {
    const l = this.line;
    const n = this.lineLen;
    this.lineLen = 0;
    const raw = decoder.decode(l.subarray(0, n));
    const shown = `"${escapeServerText(raw, 80)}"`;
    const digit = (x: number) => x >= 0x30 && x <= 0x39;
    if (n < 3 || !digit(l[0]) || !digit(l[1]) || !digit(l[2])) {
      throw protocol(phase, `The server sent a malformed reply line ${shown}.`);
    }
    const code = (l[0] - 0x30) * 100 + (l[1] - 0x30) * 10 + (l[2] - 0x30);
    if (code < 200 || code > 599) {
      throw protocol(
        phase,
        `The server sent reply code ${code}, which is outside 200–599, in line ${shown}.`,
      );
    }
    const sep = n > 3 ? l[3] : 0x20;
    if (sep !== 0x20 && sep !== 0x2d) {
      throw protocol(phase, `The server sent a malformed reply line ${shown}.`);
    }
    if (this.lines.length > 0 && code !== this.code) {
      throw protocol(
        phase,
        `The server changed the reply code from ${this.code} to ${code} inside one reply.`,
      );
    }
    if (this.lines.length + 1 > this.limits.maxReplyLines) {
      throw protocol(phase, `The server sent a reply with more than ${this.limits.maxReplyLines} lines.`);
    }
    this.replyBytes += n + 2;
    if (this.replyBytes > this.limits.maxReplyBytes) {
      throw protocol(phase, `The server sent a reply longer than ${this.limits.maxReplyBytes} bytes.`);
    }
    this.code = code;
    this.lines.push(raw.slice(4));
    if (sep === 0x2d) return null;
    const lines = this.lines;
    this.lines = [];
    this.replyBytes = 0;
    this.code = 0;
    const reply: Reply = { code, lines, text: lines.join("\n") };
    const m = ENHANCED.exec(lines[0]);
    if (m && Number(m[1]) === Math.floor(code / 100)) reply.enhanced = `${m[1]}.${m[2]}.${m[3]}`;
    return reply;
  }
}

function protocol(phase: Phase, message: string): SmtpError {
  return new SmtpError({
    code: "PROTOCOL_ERROR",
    phase,
    message,
    hint: "The server does not speak SMTP correctly; check the host and port, or report it to its operator.",
  });
}
