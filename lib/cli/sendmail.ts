/**
 * `mailplan sendmail` (also run when the program is invoked as `sendmail`): a drop-in for
 * /usr/sbin/sendmail, so cron, mail(1), PHP's mail(), logwatch, smartd and `git send-email` send
 * through the routes and TLS policy of the config.
 *
 * Invariants:
 * - The message is read from stdin in one streaming pass into a private spool file (memory flat);
 *   only the header section is rewritten: Bcc (and Resent-Bcc) removed, a missing From, Date or
 *   Message-ID added (each can be switched off in `sendmail:`). Otherwise only line endings change,
 *   plus what sendmail itself does (lib/message/header-read.ts): a leading mbox "From " line is
 *   dropped, an empty line is put before a body that follows the header without one, and without
 *   -i a line holding a single "." ends the message.
 * - The message is never lost once read: it is written ahead to the outbox before the first byte
 *   goes out, and a temporary failure leaves it there (exit 75, EX_TEMPFAIL); a permanent failure
 *   exits with the contract's code and one line on stderr. Success prints nothing, as sendmail.
 * - Envelope sender: -f, else `sendmail.from` (%u user, %h host name), else the From header's
 *   address, else user@host; a sender without a domain (cron's `From: root`, `-f root`) gets the
 *   host name, as sendmail qualifies it. A recipient without a domain (cron mails `root`) goes to
 *   its `sendmail.aliases` entry (else `default`), else is refused (MESSAGE_INVALID); headers stay.
 * - An outbox that cannot be written does not stop the send: one warning line, then sent without it.
 * @module
 */
import { access, constants, mkdtemp, open, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { MailplanError } from "../codes.ts";
import { locateConfig } from "../config/locate.ts";
import type { Config } from "../config/schema.ts";
import { Transcript } from "../engine/transcript.ts";
import { parseMailbox } from "../message/address.ts";
import { headerAddresses } from "../message/header-addresses.ts";
import { SubmissionReader } from "../message/header-read.ts";
import { openRawMessage } from "../message/raw.ts";
import { ensureOutboxDir, outboxDir } from "../outbox/dir.ts";
import { requireConfig } from "./commands.ts";
import { type CliIo, safeText } from "./io.ts";
import { outboxCommand } from "./outbox.ts";
import { exitStatus, withProbeHints } from "./send.ts";
import { runSend, type SendResult } from "./send-run.ts";
import { parseSendmailArgs, type SendmailArgs } from "./sendmail-args.ts";
import { type Aliases, expandFrom, type HeaderOutcome, type HeaderPolicy, qualify, resolveAlias, rewriteHeader, userName } from "./sendmail-header.ts";


/**
 * Reads the message from `source` into a private spool file, rewriting its header on the way.
 * Returns the file and the header outcome; the caller disposes of the folder.
 */
async function spool(source: AsyncIterable<Uint8Array>, ignoreDots: boolean, policy: HeaderPolicy) {
  const dir = await mkdtemp(join(tmpdir(), "mailplan-sendmail-"));
  const dispose = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, "message.eml");
  let outcome: HeaderOutcome | undefined;
  try {
    const reader = new SubmissionReader({
      ignoreDots,
      rewrite: (fields) => {
        const r = rewriteHeader(fields, policy);
        outcome = r.outcome;
        return r.fields;
      },
    });
    const fh = await open(path, "wx", 0o600);
    try {
      const write = async (parts: Uint8Array[]) => {
        for (const bytes of parts) {
          let off = 0;
          while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
        }
      };
      for await (const chunk of source) {
        await write(reader.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk));
        if (reader.ended) break; // a lone "." line: the rest of stdin is not part of the message
      }
      await write(reader.end());
    } finally {
      await fh.close();
    }
    return { path, outcome: outcome!, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/** Checks the envelope addresses before anything is planned, with hints for sendmail users. */
function envelope(a: SendmailArgs, outcome: HeaderOutcome, aliases: Aliases): { from: string; recipients: string[] } {
  const fromArgs = a.recipients.flatMap((r) => headerAddresses(r, "command line"));
  const recipients = [...new Set([...fromArgs, ...outcome.recipients].flatMap((r) => resolveAlias(r, aliases)))];
  if (recipients.length === 0) {
    if (a.extract) throw new MailplanError("MESSAGE_INVALID", "The message has no recipients: no To, Cc or Bcc header, and none on the command line.", "add a To header, or give the recipients as arguments");
    throw new MailplanError("USAGE", "sendmail needs recipients.", "give them as arguments (sendmail ops@example.com < msg), or use -t to read them from the To, Cc and Bcc headers");
  }
  for (const r of recipients) {
    if (!r.includes("@")) {
      throw new MailplanError("MESSAGE_INVALID", `The recipient ${JSON.stringify(r)} has no domain.`, `mailplan hands mail to a relay, which needs a full address: write name@example.com (for cron: MAILTO=you@example.com), or map the name in the config: sendmail: { aliases: { ${/^[\w.-]+$/.test(r) ? r : "root"}: you@example.com } }`);
    }
  }
  return { from: outcome.from, recipients };
}

/**
 * The outbox folder, created if missing; null (with one warning line) when it cannot be written,
 * so that the message is still sent rather than refused for want of a place to keep it.
 */
async function usableOutbox(dir: string, io: CliIo): Promise<string | null> {
  try {
    await ensureOutboxDir(dir);
    await access(dir, constants.W_OK);
    return dir;
  } catch (e) {
    io.err(`mailplan: warning: the outbox ${safeText(dir)} cannot be written (${safeText((e as Error).message)}); sending without it, so a temporary failure cannot be kept. Set outbox: in the config or $MAILPLAN_OUTBOX.\n`);
    return null;
  }
}

/** The one stderr line for a failed or queued send. */
function failureLine(r: SendResult): string {
  const e = r.error;
  const refused = r.rejected.map((x) => `${x.address} (${x.code} ${safeText(x.text)})`).join(", ");
  const hint = e?.hint && !(refused && e.hint.includes("`rejected`")) ? ` Hint: ${safeText(e.hint)}.` : ""; // the JSON field means nothing here
  const what = e ? `${safeText(e.message)}${refused ? ` Refused: ${refused}.` : ""}${hint} (${e.code})` : "the message was not delivered";
  if (r.queued) return `mailplan: kept in the outbox as ${r.queued.id} (${safeText(r.queued.dir)}), to be sent by \`mailplan outbox flush\`: ${what}\n`;
  if (e?.code === "RECIPIENTS_REJECTED") {
    return `mailplan: sent to ${r.accepted.join(", ")}; refused: ${refused} (RECIPIENTS_REJECTED)\n`;
  }
  return `mailplan: ${what}\n`.replace(/\.\. /g, ". ");
}

/**
 * `sendmail [-t] [-i|-oi] [-f FROM] [-F NAME] [RCPT…] < message`; `-bp` lists the outbox, `-q`
 * flushes it. Returns the exit status; throws (USAGE, CONFIG_INVALID, MESSAGE_INVALID, NO_ROUTE)
 * before anything is sent.
 */
export async function sendmailCommand(args: string[], io: CliIo, stdin?: AsyncIterable<Uint8Array>): Promise<number> {
  const a = parseSendmailArgs(args);
  const located = locateConfig(a.config, io.env);
  if (a.action !== "send") {
    const sub = a.action === "list" ? ["list"] : ["flush"];
    return await outboxCommand(located.path ? [...sub, "--config", located.path] : sub, io);
  }
  if (!located.found) {
    throw new MailplanError("CONFIG_INVALID", `No mailplan config found (looked at ${located.tried.join(" and ")}).`, "write one there, set $MAILPLAN_CONFIG, or pass --config FILE");
  }
  const loaded = requireConfig(located.path, io);
  const config: Config = loaded.config;
  const sm = config.sendmail ?? {};
  if (a.verbose) io.err(`mailplan: config ${safeText(resolve(loaded.file))}\n`);
  if (a.verbose && a.ignored.length) io.err(`mailplan: accepted without effect: ${a.ignored.join(" ")}\n`);
  const host = hostname();
  const flagFrom = a.from === undefined ? undefined : a.from === "" || a.from === "<>" ? "" : parseMailbox(qualify(a.from.trim(), host), "sender").address;
  const policy: HeaderPolicy = {
    extract: a.extract, flagFrom, configFrom: sm.from === undefined ? undefined : parseMailbox(qualify(expandFrom(sm.from, io.env, host).trim(), host), "sender").address, fullName: a.fullName,
    addFrom: sm.add_from ?? true, addDate: sm.add_date ?? true, addMessageId: sm.add_message_id ?? true, host, user: userName(io.env), now: () => new Date(),
  };
  const spooled = await spool(stdin ?? (process.stdin as AsyncIterable<Uint8Array>), a.ignoreDots, policy);
  try {
    const env = envelope(a, spooled.outcome, sm.aliases);
    const raw = await openRawMessage(spooled.path);
    const transcript = new Transcript();
    if (a.verbose) transcript.onLine = (l) => io.err(`${l.dir} ${l.text}\n`);
    const box = await usableOutbox(outboxDir(config.outbox, loaded.baseDir, io.env), io);
    const result = await runSend({
      config, baseDir: loaded.baseDir, envelope: env, transcript,
      message: { size: raw.scan.size, has8bit: raw.scan.has8bit, needsSmtpUtf8: raw.scan.smtpUtf8, messageId: raw.scan.messageId, open: raw.stream },
      mode: box === null ? { kind: "direct" } : { kind: a.queueOnly ? "queue-only" : "write-ahead", outbox: { dir: box, config: resolve(loaded.file) } },
    });
    withProbeHints(result, resolve(loaded.file));
    const queuedOnPurpose = a.queueOnly && (result.transactions ?? [result]).every((t) => t.queued);
    const code = queuedOnPurpose ? 0 : exitStatus(result); // -odq: stored for later is success, as in sendmail
    if (code !== 0) io.err(failureLine(result));
    return code;
  } finally {
    await spooled.dispose();
  }
}
