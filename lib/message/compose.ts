/**
 * Composes the message `send` transmits from its flags: a minimal, correct RFC 5322 / MIME message
 * (text/plain, multipart/alternative with HTML, multipart/mixed with base64 attachments), CRLF
 * line endings, headers folded at 78. Attachments are streamed from disk when sending, never held
 * in memory. Deterministic given `date`, `messageId` and `boundarySeed`.
 * @module
 */
import { basename } from "node:path";
import { MailplanError } from "../codes.ts";
import { formatAddressList, formatMailbox, type Mailbox, parseAddressList, parseMailbox } from "./address.ts";
import { Base64Encoder, base64Size, base64Stream } from "./base64.ts";
import { boundaries } from "./boundary.ts";
import { splitLines } from "./crlf.ts";
import { formatDate } from "./date.ts";
import { formatHeader } from "./fold.ts";
import { extraHeader, subjectHeader } from "./headers.ts";
import { newMessageId, normalizeMessageId } from "./message-id.ts";
import { contentTypeFor } from "./mime-types.ts";
import { withParams } from "./params.ts";
import { encodeQuotedPrintable } from "./qp.ts";
import { readFileChunks } from "./raw.ts";
import { MESSAGE_FILE_LIMITS, NotRegularFile, openRegularFile } from "./regular-file.ts";
import { chooseTextEncoding } from "./transfer-encoding.ts";
import { decodeUtf8Strict, utf8 } from "./utf8.ts";

/** What `send` gives the composer (flags already split; address strings may hold comma lists). */
export interface ComposeOptions {
  /** One mailbox, `a@x` or `Name <a@x>`. */
  from: string;
  to?: readonly string[];
  cc?: readonly string[];
  /** Envelope only: never written to a header. */
  bcc?: readonly string[];
  /** May be empty. */
  subject: string;
  /** The plain-text body (exactly one of `text` / `textFile`). */
  text?: string;
  /** A UTF-8 file holding the plain-text body. */
  textFile?: string;
  /** A UTF-8 HTML file: the message becomes multipart/alternative. */
  htmlFile?: string;
  /** The HTML body as text (instead of `htmlFile`; the library's `html`). */
  html?: string;
  /** Attached as base64 (multipart/mixed): file paths, or contents held in memory (the library). */
  attachments?: readonly (string | AttachmentContent)[];
  /** Extra header fields, in order (not Date, From, To, Cc, Bcc, Subject, Message-ID, MIME-*, Content-*). */
  headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** Date header; now when absent. Written in UTC. */
  date?: Date;
  /** Full Message-ID (`<left@right>`); generated when absent. */
  messageId?: string;
  /** Right-hand side of a generated Message-ID; the From domain when absent. */
  messageIdDomain?: string;
  /** Makes the multipart boundaries deterministic. */
  boundarySeed?: string;
  /** The server offers 8BITMIME: non-ASCII text may go as 8bit instead of quoted-printable. */
  eightBitMime?: boolean;
}

/** An attachment given as its content rather than a file: no filesystem needed. */
export interface AttachmentContent {
  /** The file name shown to the recipient (also picks the Content-Type when `contentType` is absent). */
  filename: string;
  /** The bytes (a string is sent as UTF-8). */
  content: Uint8Array | string;
  /** e.g. `application/pdf`; default: from the file name's extension. */
  contentType?: string;
}

/** A composed message: envelope, the numbers MAIL FROM needs, and a re-startable byte stream. */
export interface ComposedMessage {
  /** The Message-ID header's value, `<…>`. */
  messageId: string;
  /** Bare addresses: From, and To + Cc + Bcc without duplicates, in that order. */
  envelope: { from: string; recipients: string[] };
  /** Octets of the message (no dot-stuffing, no terminator); exact unless an attachment changes meanwhile. */
  size: number;
  /** Some byte is ≥ 0x80 (8bit part, or UTF-8 addresses in headers): send with BODY=8BITMIME. */
  has8bit: boolean;
  /** An envelope or header address is non-ASCII: needs SMTPUTF8. */
  smtpUtf8: boolean;
  /** The message bytes (CRLF, not dot-stuffed); each call starts from the beginning. */
  stream(): AsyncIterable<Uint8Array>;
}

/** A slice of the message: bytes, or an attachment file (`bytes` long) sent base64 (`size` long). */
type Piece = Uint8Array | { file: string; bytes: number; size: number };
type Leaf = { kind: "leaf"; headers: string; body: Piece[]; avoid?: string };
type Multi = { kind: "multi"; subtype: "mixed" | "alternative"; parts: Node[]; boundary?: string };
type Node = Leaf | Multi;

const CRLF = utf8("\r\n");
const bad = (message: string, hint: string) => new MailplanError("MESSAGE_INVALID", message, hint);

/** Why a body or attachment file cannot be used, as MESSAGE_INVALID naming the file and the flag. */
function refused(e: unknown, what: string, file: string, flag: string): MailplanError {
  if (!(e instanceof NotRegularFile)) return bad(`The ${what} ${JSON.stringify(file)} cannot be read.`, `check the path given to ${flag}`);
  const hint = e.reason === "missing" ? `check the path given to ${flag}`
    : e.reason === "folder" ? (flag === "--attach" ? "attach files one by one (zip a folder first)" : `give ${flag} the path of a file`)
    : e.reason === "special" ? `${flag} reads regular files only; save the content to a file first`
    : e.reason === "too-big" ? "send large files as a link instead"
    : "check its permissions";
  return bad(`The ${what} ${JSON.stringify(file)} ${e.message}.`, hint);
}

async function readUtf8(file: string, what: string, flag: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    const { fh, size } = await openRegularFile(file, MESSAGE_FILE_LIMITS.body);
    try {
      bytes = new Uint8Array(size);
      let len = 0;
      while (len < size) {
        const { bytesRead } = await fh.read(bytes, len, size - len, null);
        if (bytesRead === 0) break;
        len += bytesRead;
      }
      bytes = bytes.subarray(0, len);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw refused(e, what, file, flag);
  }
  const text = decodeUtf8Strict(bytes);
  if (text === null) {
    throw bad(`The ${what} ${JSON.stringify(file)} is not UTF-8 text.`, "convert it to UTF-8, or send it with --attach instead");
  }
  return text;
}

function textLeaf(text: string, subtype: "plain" | "html", eightBitMime: boolean): Leaf {
  const lines = splitLines(text).map(utf8);
  const cte = chooseTextEncoding(lines, eightBitMime);
  const body = cte === "quoted-printable" ? utf8(encodeQuotedPrintable(lines)) : utf8(splitLines(text).join("\r\n"));
  return {
    kind: "leaf",
    headers: formatHeader("Content-Type", `text/${subtype}; charset=utf-8`) + formatHeader("Content-Transfer-Encoding", cte),
    body: [body],
    avoid: cte === "quoted-printable" ? undefined : text,
  };
}

function inMemoryAttachmentLeaf(a: AttachmentContent): Leaf {
  const name = a.filename;
  if (typeof name !== "string" || name === "" || /[\r\n\0]/.test(name)) {
    throw bad(`The attachment name ${JSON.stringify(name)} is empty or has a control character.`, "give each attachment a plain file name");
  }
  if (a.contentType !== undefined && !/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(a.contentType)) {
    throw bad(`The content type ${JSON.stringify(a.contentType)} of the attachment ${JSON.stringify(name)} is not a MIME type.`, "write it as type/subtype, e.g. application/pdf");
  }
  const bytes = typeof a.content === "string" ? utf8(a.content) : a.content;
  if (!(bytes instanceof Uint8Array)) throw bad(`The content of the attachment ${JSON.stringify(name)} is neither bytes nor text.`, "pass a Uint8Array or a string");
  const encoder = new Base64Encoder();
  const lines = [encoder.push(bytes), encoder.end()];
  return {
    kind: "leaf",
    headers: formatHeader("Content-Type", withParams(a.contentType ?? contentTypeFor(name), [["name", name]])) +
      formatHeader("Content-Transfer-Encoding", "base64") +
      formatHeader("Content-Disposition", withParams("attachment", [["filename", name]])),
    body: lines.filter((l) => l.length > 0),
  };
}

async function attachmentLeaf(file: string | AttachmentContent): Promise<Leaf> {
  if (typeof file !== "string") return inMemoryAttachmentLeaf(file);
  let size: number;
  try {
    const opened = await openRegularFile(file, MESSAGE_FILE_LIMITS.attachment);
    size = opened.size;
    await opened.fh.close();
  } catch (e) {
    throw refused(e, "attachment", file, "--attach");
  }
  const name = basename(file);
  return {
    kind: "leaf",
    headers: formatHeader("Content-Type", withParams(contentTypeFor(name), [["name", name]])) +
      formatHeader("Content-Transfer-Encoding", "base64") +
      formatHeader("Content-Disposition", withParams("attachment", [["filename", name]])),
    body: size > 0 ? [{ file, bytes: size, size: base64Size(size) }] : [],
  };
}

function collectAvoid(node: Node, out: string[]): string[] {
  if (node.kind === "leaf") {
    if (node.avoid !== undefined) out.push(node.avoid);
  } else node.parts.forEach((p) => collectAvoid(p, out));
  return out;
}

function assignBoundaries(node: Node, next: (avoid: string[]) => string, avoid: string[]): void {
  if (node.kind === "leaf") return;
  node.boundary = next(avoid);
  node.parts.forEach((p) => assignBoundaries(p, next, avoid));
}

function entityHeaders(node: Node): string {
  if (node.kind === "leaf") return node.headers;
  return formatHeader("Content-Type", withParams(`multipart/${node.subtype}`, [["boundary", node.boundary!]]));
}

/** Body pieces of an entity (a multipart body ends with its close delimiter and CRLF). */
function entityBody(node: Node): Piece[] {
  if (node.kind === "leaf") return node.body;
  const b = node.boundary!;
  const out: Piece[] = [];
  node.parts.forEach((part, i) => {
    out.push(utf8(i === 0 ? `--${b}\r\n` : `\r\n--${b}\r\n`), utf8(entityHeaders(part)), CRLF, ...entityBody(part));
  });
  out.push(utf8(`\r\n--${b}--\r\n`));
  return out;
}

function endsWithCrlf(pieces: Piece[]): boolean {
  const last = pieces[pieces.length - 1];
  if (last === undefined) return false;
  if (!(last instanceof Uint8Array)) return true;
  return last.length >= 2 && last[last.length - 2] === 0x0d && last[last.length - 1] === 0x0a;
}

/** Joins adjacent byte pieces so the stream yields few, larger chunks. */
function coalesce(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  let run: Uint8Array[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const total = run.reduce((n, r) => n + r.length, 0);
    const buf = new Uint8Array(total);
    let o = 0;
    for (const r of run) {
      buf.set(r, o);
      o += r.length;
    }
    out.push(buf);
    run = [];
  };
  for (const p of pieces) {
    if (p instanceof Uint8Array) {
      if (p.length > 0) run.push(p);
    } else {
      flush();
      out.push(p);
    }
  }
  flush();
  return out;
}

/**
 * Composes the message. Throws MESSAGE_INVALID for a malformed address or header value (CR/LF
 * included), no recipient, no body, or a missing/unreadable text, HTML or attachment file;
 * USAGE when both `text` and `textFile` are given.
 * @example
 * const msg = await composeMessage({ from: "Ops <ops@x>", to: ["a@y"], subject: "Hi", text: "Hello" });
 * for await (const chunk of msg.stream()) write(chunk);
 */
export async function composeMessage(opts: ComposeOptions): Promise<ComposedMessage> {
  const from: Mailbox = parseMailbox(opts.from, "sender");
  const to = parseAddressList(opts.to ?? [], "recipient");
  const cc = parseAddressList(opts.cc ?? [], "recipient");
  const bcc = parseAddressList(opts.bcc ?? [], "recipient");
  const recipients = [...new Set([...to, ...cc, ...bcc].map((m) => m.address))];
  if (recipients.length === 0) throw bad("The message has no recipient.", "give at least one address with --to, --cc or --bcc");

  if (opts.text !== undefined && opts.textFile !== undefined) {
    throw new MailplanError("USAGE", "Both --text and --text-file were given.", "use one of them");
  }
  if (opts.text === undefined && opts.textFile === undefined) {
    throw bad("The message has no body.", "give --text TEXT or --text-file FILE (or a complete message with --message FILE.eml)");
  }
  if (opts.text !== undefined && opts.text.includes("\0")) {
    throw bad("The --text body contains a NUL character.", "remove it, or send binary content with --attach");
  }

  const date = opts.date ?? new Date();
  if (Number.isNaN(date.getTime())) throw bad("The Date is not a valid date.", "pass a valid Date");
  const messageId = opts.messageId !== undefined
    ? normalizeMessageId(opts.messageId)
    : newMessageId(opts.messageIdDomain ?? from.address.slice(from.address.lastIndexOf("@") + 1));

  let head = formatHeader("Date", formatDate(date)) + formatHeader("From", formatMailbox(from));
  if (to.length > 0) head += formatHeader("To", formatAddressList(to));
  if (cc.length > 0) head += formatHeader("Cc", formatAddressList(cc));
  head += subjectHeader(opts.subject) + formatHeader("Message-ID", messageId);
  const extra = opts.headers === undefined ? [] : Array.isArray(opts.headers) ? opts.headers : Object.entries(opts.headers);
  for (const [name, value] of extra as Array<readonly [string, string]>) head += extraHeader(name, value);
  head += formatHeader("MIME-Version", "1.0");

  const eight = opts.eightBitMime ?? false;
  const text = opts.text ?? await readUtf8(opts.textFile!, "text file", "--text-file");
  let root: Node = textLeaf(text, "plain", eight);
  if (opts.html !== undefined && opts.htmlFile !== undefined) throw new MailplanError("USAGE", "Both html and an HTML file were given.", "use one of them");
  const html = opts.html ?? (opts.htmlFile !== undefined ? await readUtf8(opts.htmlFile, "HTML file", "--html-file") : undefined);
  if (html !== undefined) {
    root = { kind: "multi", subtype: "alternative", parts: [root, textLeaf(html, "html", eight)] };
  }
  if (opts.attachments && opts.attachments.length > 0) {
    const atts: Node[] = [];
    for (const file of opts.attachments) atts.push(await attachmentLeaf(file));
    root = { kind: "multi", subtype: "mixed", parts: [root, ...atts] };
  }
  assignBoundaries(root, boundaries(opts.boundarySeed), collectAvoid(root, []));

  const body = entityBody(root);
  const raw: Piece[] = [utf8(head + entityHeaders(root)), CRLF, ...body];
  if (!endsWithCrlf(body)) raw.push(CRLF);
  const pieces = coalesce(raw);

  const size = pieces.reduce((n, p) => n + (p instanceof Uint8Array ? p.length : p.size), 0);
  const has8bit = pieces.some((p) => p instanceof Uint8Array && p.some((b) => b >= 0x80));
  const smtpUtf8 = [from, ...to, ...cc, ...bcc].some((m) => m.smtpUtf8);

  return {
    messageId,
    envelope: { from: from.address, recipients },
    size,
    has8bit,
    smtpUtf8,
    async *stream() {
      for (const p of pieces) {
        if (p instanceof Uint8Array) yield p;
        // The encoder copies; never more bytes than counted, so SIZE= stays true if the file grows.
        else yield* base64Stream(readFileChunks(p.file, undefined, true, p.bytes));
      }
    },
  };
}

/**
 * Collects a stream into one Uint8Array (small messages, tests).
 * @example const bytes = await collect(msg.stream());
 */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of source) {
    parts.push(c.slice()); // a producer may reuse its buffer for the next chunk
    n += c.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
