/**
 * Streaming pre-scan of a raw RFC 5322 message (`send --message FILE.eml`): the numbers the SMTP
 * session needs before MAIL FROM (SIZE, BODY=8BITMIME, SMTPUTF8) and a sanity check that the file
 * is a message at all. Memory stays bounded whatever the input: only the current header field
 * (capped) is kept.
 * @module
 */
import { MailplanError } from "../codes.ts";

const CR = 0x0d;
const LF = 0x0a;
const MAX_FIELD = 64 * 1024;
/** RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6: at most 998 octets per line, CRLF not counted. */
export const MAX_LINE_OCTETS = 998;

/** Header fields whose raw non-ASCII bytes mean the transaction needs SMTPUTF8 (RFC 6532). */
const ADDRESS_FIELDS = new Set([
  "from", "sender", "reply-to", "to", "cc", "bcc", "return-path", "delivered-to",
  "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "disposition-notification-to",
]);

/** What the pre-scan learned about a raw message. All counts are after CRLF normalisation. */
export interface RawScan {
  /** Octets after CRLF normalisation (no dot-stuffing, no terminator): the value for SIZE=. */
  size: number;
  /** Some byte is ≥ 0x80 anywhere (header or body): send with BODY=8BITMIME. */
  has8bit: boolean;
  /** Some header field has raw non-ASCII bytes. */
  headers8bit: boolean;
  /** An address header (From, To, Cc, Reply-To, …) has raw non-ASCII bytes: needs SMTPUTF8. */
  smtpUtf8: boolean;
  /** Longest line in octets, without its CRLF (RFC 5322 caps this at 998). */
  longestLine: number;
  /** The Message-ID header's `<…>` value, or null when the message has none. */
  messageId: string | null;
  /** Number of header fields. */
  headerCount: number;
}

const invalid = (source: string, what: string, hint: string) =>
  new MailplanError("MESSAGE_INVALID", `${source} is not an RFC 5322 message: ${what}.`, hint);

/**
 * Incremental scanner: feed raw chunks with `push`, then `finish()` returns the RawScan or throws
 * MESSAGE_INVALID (empty, NUL bytes, a line over 998 octets, first line not a header field, no
 * empty line after the headers). `push` throws as soon as a line passes 998 octets, so a 10 MB
 * line costs one chunk of memory and is refused before any byte is sent.
 * @example
 * const s = new RawScanner("mail.eml"); for await (const c of chunks) s.push(c); const scan = s.finish();
 */
export class RawScanner {
  private size = 0;
  private has8bit = false;
  private headers8bit = false;
  private smtpUtf8 = false;
  private longest = 0;
  private lineLen = 0;
  private lineNo = 1;
  private pendingCR = false;
  private inHeader = true;
  private sawSeparator = false;
  private headerCount = 0;
  private messageId: string | null = null;
  /** Bytes of the current header line (logical field, unfolded lines joined), capped. */
  private field: number[] = [];
  private fieldHas8bit = false;
  private lineBytes: number[] = [];

  /** `source` names the input in error messages, e.g. the file name. */
  constructor(private readonly source: string) {}

  /** Scans the next raw (not yet normalised) chunk. Throws MESSAGE_INVALID on a NUL byte or a non-header first line. */
  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.pendingCR) {
        this.pendingCR = false;
        this.endLine();
        if (b === LF) continue;
      }
      if (b === CR) {
        this.pendingCR = true;
      } else if (b === LF) {
        this.endLine();
      } else {
        if (b === 0) {
          throw invalid(this.source, `it contains a NUL byte on line ${this.lineNo}`, "this looks like a binary file; send it as an attachment with --attach instead of --message");
        }
        if (b >= 0x80) this.has8bit = true;
        this.size++;
        if (++this.lineLen > MAX_LINE_OCTETS) {
          throw invalid(
            this.source,
            `line ${this.lineNo} is longer than ${MAX_LINE_OCTETS} octets (RFC 5322 §2.1.1, RFC 5321 §4.5.3.1.6)`,
            "servers may cut or refuse such a line: wrap it, or encode the body (quoted-printable or base64); `send --text-file` encodes it for you",
          );
        }
        if (this.inHeader && this.lineBytes.length < MAX_FIELD) this.lineBytes.push(b);
      }
    }
  }

  /** Ends the input and returns the scan; throws MESSAGE_INVALID for an empty or header-only file. */
  finish(): RawScan {
    if (this.pendingCR) {
      this.pendingCR = false;
      this.endLine();
    }
    if (this.size === 0 && this.lineNo === 1) {
      throw invalid(this.source, "it is empty", "write the message headers (From, To, Subject…), an empty line, then the body");
    }
    if (this.lineLen > 0) this.endLine(true);
    if (!this.sawSeparator) {
      this.flushField();
      if (this.headerCount === 0) {
        throw invalid(this.source, "it has no header fields", "a message starts with header lines such as \"From: a@example.com\", then an empty line, then the body");
      }
      throw invalid(this.source, "there is no empty line between the header and the body", "add an empty line after the last header field (even when the body is empty)");
    }
    return {
      size: this.size,
      has8bit: this.has8bit,
      headers8bit: this.headers8bit,
      smtpUtf8: this.smtpUtf8,
      longestLine: this.longest,
      messageId: this.messageId,
      headerCount: this.headerCount,
    };
  }

  /** A line ended (its CRLF counts 2 octets unless `atEof` without a line break). */
  private endLine(atEof = false): void {
    if (this.lineLen > this.longest) this.longest = this.lineLen;
    if (!atEof) this.size += 2;
    if (this.inHeader) this.headerLine();
    this.lineLen = 0;
    this.lineNo++;
  }

  private headerLine(): void {
    const line = this.lineBytes;
    this.lineBytes = [];
    if (line.length === 0) {
      if (this.headerCount === 0 && this.field.length === 0) {
        throw invalid(this.source, "it starts with an empty line, so it has no header fields", "remove the empty line(s) at the top; the message must start with a header such as \"From: …\"");
      }
      this.flushField();
      this.inHeader = false;
      this.sawSeparator = true;
      return;
    }
    const first = line[0];
    if (first === 0x20 || first === 0x09) {
      if (this.headerCount === 0 && this.field.length === 0) {
        throw invalid(this.source, "line 1 starts with whitespace", "the first line must be a header field such as \"From: a@example.com\"");
      }
      for (const b of line) if (this.field.length < MAX_FIELD) this.field.push(b);
      if (line.some((b) => b >= 0x80)) this.fieldHas8bit = true;
      return;
    }
    const colon = line.indexOf(0x3a);
    const nameOk = colon > 0 && line.slice(0, colon).every((b) => b >= 0x21 && b <= 0x7e);
    if (!nameOk) {
      const shown = JSON.stringify(String.fromCharCode(...line.slice(0, 40)));
      const mbox = line.length >= 5 && String.fromCharCode(...line.slice(0, 5)) === "From ";
      throw invalid(
        this.source,
        `line ${this.lineNo} (${shown}) is neither a header field nor the empty line that ends the header`,
        mbox
          ? "this looks like an mbox file; remove the leading \"From \" line (or split the mailbox into single messages)"
          : "every header line is \"Name: value\" (continuation lines start with a space) and an empty line separates the header from the body",
      );
    }
    this.flushField();
    this.field = line;
    this.fieldHas8bit = line.some((b) => b >= 0x80);
  }

  private flushField(): void {
    const f = this.field;
    if (f.length === 0) return;
    this.headerCount++;
    const colon = f.indexOf(0x3a);
    const name = String.fromCharCode(...f.slice(0, colon)).toLowerCase();
    if (this.fieldHas8bit) {
      this.headers8bit = true;
      if (ADDRESS_FIELDS.has(name)) this.smtpUtf8 = true;
    }
    if (name === "message-id" && this.messageId === null) {
      const value = new TextDecoder().decode(new Uint8Array(f.slice(colon + 1)));
      const m = /<[^<>\s]+>/.exec(value);
      this.messageId = m ? m[0] : value.trim() || null;
    }
    this.field = [];
    this.fieldHas8bit = false;
  }
}

/**
 * Scans a whole async iterable of raw chunks (a file stream, stdin…).
 * @example const scan = await scanRaw(readFileChunks("mail.eml"), "mail.eml");
 */
export async function scanRaw(source: AsyncIterable<Uint8Array>, name: string): Promise<RawScan> {
  const s = new RawScanner(name);
  for await (const chunk of source) s.push(chunk);
  return s.finish();
}
