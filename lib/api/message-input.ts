/**
 * `send`'s message options → the envelope and the MessageSource the engine sends, exactly as the
 * CLI builds them from its flags (composeMessage), or from a raw message held in memory or
 * spooled from a stream. Throws MailplanError (USAGE / MESSAGE_INVALID) for bad input; never
 * connects anything.
 */
import { MailplanError } from "../codes.ts";
import type { MessageSource } from "../engine/types.ts";
import { parseAddressList, parseMailbox } from "../message/address.ts";
import { composeMessage } from "../message/compose.ts";
import { normalizeCrlf } from "../message/crlf.ts";
import { spoolToTempFile, readFileChunks } from "../message/raw.ts";
import { RawScanner } from "../message/raw-scan.ts";
import type { Recipients, SendOptions } from "./types.ts";

/** A message ready for runSend; `dispose` removes a spool file, if any. */
export interface PreparedMessage {
  envelope: { from: string; recipients: string[] };
  message: MessageSource;
  dispose(): Promise<void>;
}

const list = (r: Recipients | undefined): string[] => (r === undefined ? [] : typeof r === "string" ? [r] : [...r]);

const COMPOSE_ONLY = ["subject", "text", "html", "attachments", "headers"] as const;

/** Web ReadableStream → async iterable (Node 20 streams are iterable already; this covers the rest). */
async function* chunksOf(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    for await (const c of source as AsyncIterable<Uint8Array | string>) yield typeof c === "string" ? new TextEncoder().encode(c) : c;
    return;
  }
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function rawMessage(raw: NonNullable<SendOptions["raw"]>): Promise<{ message: MessageSource; dispose(): Promise<void> }> {
  const name = "The raw message";
  if (typeof raw === "string" || raw instanceof Uint8Array) {
    const bytes = typeof raw === "string" ? new TextEncoder().encode(raw) : raw;
    const scanner = new RawScanner(name);
    scanner.push(bytes);
    const scan = scanner.finish();
    const open = () => normalizeCrlf((async function* () { yield bytes; })());
    return { message: { size: scan.size, has8bit: scan.has8bit, needsSmtpUtf8: scan.smtpUtf8, messageId: scan.messageId, open }, dispose: () => Promise.resolve() };
  }
  if (raw === null || typeof raw !== "object" || !(Symbol.asyncIterator in raw || "getReader" in raw)) {
    throw new MailplanError("USAGE", "send's raw must be bytes (Uint8Array), text, or a stream of bytes.", "for example raw: await Bun.file(\"mail.eml\").bytes()");
  }
  const spool = await spoolToTempFile(chunksOf(raw));
  try {
    const scanner = new RawScanner(name);
    for await (const chunk of readFileChunks(spool.path, undefined, true)) scanner.push(chunk);
    const scan = scanner.finish();
    const open = () => normalizeCrlf(readFileChunks(spool.path, undefined, true));
    return { message: { size: scan.size, has8bit: scan.has8bit, needsSmtpUtf8: scan.smtpUtf8, messageId: scan.messageId, open }, dispose: spool.dispose };
  } catch (e) {
    await spool.dispose();
    throw e;
  }
}

/**
 * Builds the message and its envelope (From; To + Cc + Bcc without duplicates).
 * @example const m = await prepareMessage({ from: "a@x", to: "b@y", subject: "Hi", text: "Hello" });
 */
export async function prepareMessage(o: SendOptions): Promise<PreparedMessage> {
  if (!o || typeof o !== "object") throw new MailplanError("USAGE", "send needs a message object.", "for example send({ from, to, subject, text })");
  if (typeof o.from !== "string") throw new MailplanError("USAGE", "send needs from (the sender's address).", "for example from: \"alerts@example.com\"");
  const [to, cc, bcc] = [list(o.to), list(o.cc), list(o.bcc)];
  if (to.length + cc.length + bcc.length === 0) throw new MailplanError("USAGE", "send needs to (or cc / bcc).", "for example to: [\"ops@example.com\"]");
  const from = parseMailbox(o.from, "sender").address;
  if (o.raw !== undefined) {
    const extra = COMPOSE_ONLY.find((k) => o[k] !== undefined);
    if (extra) throw new MailplanError("USAGE", `raw sends a complete message, so ${extra} cannot be used with it.`, "put it in the raw message, or drop raw");
    const recipients = [...new Set(parseAddressList([...to, ...cc, ...bcc], "recipient").map((m) => m.address))];
    const { message, dispose } = await rawMessage(o.raw);
    return { envelope: { from, recipients }, message, dispose };
  }
  if (typeof o.subject !== "string") throw new MailplanError("USAGE", "send needs subject (it may be empty) and text.", "or send a complete message with raw");
  if (typeof o.text !== "string") throw new MailplanError("USAGE", "send needs text (the plain-text body).", "add text, even next to html");
  const composed = await composeMessage({ from: o.from, to, cc, bcc, subject: o.subject, text: o.text, html: o.html, attachments: o.attachments, headers: o.headers });
  return {
    envelope: composed.envelope,
    message: { size: composed.size, has8bit: composed.has8bit, needsSmtpUtf8: composed.smtpUtf8, messageId: composed.messageId, open: composed.stream },
    dispose: () => Promise.resolve(),
  };
}
