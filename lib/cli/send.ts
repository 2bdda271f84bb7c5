/** `send`: compose or read the message, plan it, deliver it, report as text or the contract's JSON. */
import { resolve } from "node:path";
import { outboxDir } from "../outbox/dir.ts";
import { chooseConfig } from "../config/locate.ts";
import { probeHint } from "../probe/hint.ts";
import type { DeliveryError } from "../engine/types.ts";
import { EXIT_CODES, MailplanError } from "../codes.ts";
import { composeMessage } from "../message/compose.ts";
import { parseAddressList, parseMailbox } from "../message/address.ts";
import { openRawMessage } from "../message/raw.ts";
import { Transcript } from "../engine/transcript.ts";
import type { MessageSource } from "../engine/types.ts";
import type { AdapterName } from "../net/conn.ts";
import { availableAdapters } from "../net/detect.ts";
import { listFlag, parseFlags, required } from "./args.ts";
import { requireConfig } from "./commands.ts";
import { type CliIo, safeText } from "./io.ts";
import { openOutputFile, type OutputFile } from "./output-file.ts";
import { renderSendResult } from "./render-result.ts";
import { runSend, type SendMode, type SendResult } from "./send-run.ts";

const FLAGS = {
  config: { type: "string" },
  route: { type: "string" },
  from: { type: "string" },
  to: { type: "string", multiple: true },
  cc: { type: "string", multiple: true },
  bcc: { type: "string", multiple: true },
  subject: { type: "string" },
  text: { type: "string" },
  "text-file": { type: "string" },
  "html-file": { type: "string" },
  attach: { type: "string", multiple: true },
  message: { type: "string" },
  json: { type: "boolean" },
  transcript: { type: "string" },
  verbose: { type: "boolean" },
  quiet: { type: "boolean" },
  net: { type: "string" },
  queue: { type: "boolean" },
  "no-queue": { type: "boolean" },
} as const;

/**
 * A TLS or mode failure ends with the exact `probe` command that explains it, for the relay that
 * failed (in each transaction's error and in its failed attempts).
 */
export function withProbeHints(result: SendResult, configFile: string): void {
  const add = (error: DeliveryError | null | undefined, relay: string) => {
    if (!error) return;
    const probe = probeHint(error.code, configFile, relay) ??
      (error.code === "TIMEOUT" && (error.phase === "greeting" || error.phase === "tls") ? probeHint("TLS_MODE_MISMATCH", configFile, relay) : null);
    if (probe && !error.hint.includes("mailplan probe")) error.hint = error.hint ? `${error.hint}; ${probe}` : probe;
  };
  for (const r of result.transactions ?? [result]) {
    for (const a of r.attempts) add(a.error, a.relay);
    add(r.error, r.relay); // often the last attempt's error itself: add() never appends twice
  }
}

/** The exit status of a send result (contract.md): 0 when every transaction succeeded, 75 when it was queued. */
export function exitStatus(result: SendResult): number {
  if (result.ok) return 0;
  if (result.queued) return 75;
  if (result.outbox && result.error?.temporary) return 75; // a temporary failure that could NOT be queued
  return EXIT_CODES[result.error?.code ?? "PROTOCOL_ERROR"];
}

export function adapterFlag(value: string | undefined): AdapterName | undefined {
  if (value === undefined) return undefined;
  const available = availableAdapters();
  if (!(available as string[]).includes(value)) {
    throw new MailplanError("USAGE", `The socket adapter "${value}" is not available in this runtime.`, `choose one of: ${available.join(", ")}`);
  }
  return value as AdapterName;
}

/** `send`: returns the exit status; prints the result (human or --json). */
export async function sendCommand(args: string[], io: CliIo, stdin?: AsyncIterable<Uint8Array>): Promise<number> {
  const { values } = parseFlags("send", args, FLAGS);
  const adapter = adapterFlag(values.net);
  const chosen = chooseConfig("send", values.config, io.env);
  const loaded = requireConfig(chosen.file, io);
  const from = required("send", "from", values.from);
  const [to, cc, bcc] = [listFlag(values.to), listFlag(values.cc), listFlag(values.bcc)];
  if (to.length + cc.length + bcc.length === 0) throw new MailplanError("USAGE", "send needs --to (or --cc / --bcc).", "for example --to ops@example.com");
  let message: MessageSource;
  let recipients: string[];
  let dispose = () => Promise.resolve();
  if (values.message !== undefined) {
    const extra = (["subject", "text", "text-file", "html-file", "attach"] as const).filter((k) => values[k] !== undefined);
    if (extra.length) throw new MailplanError("USAGE", `--message sends a complete message, so --${extra[0]} cannot be used with it.`, "put the subject and body in the .eml file, or drop --message");
    const raw = await openRawMessage(values.message, stdin);
    dispose = raw.dispose;
    message = { size: raw.scan.size, has8bit: raw.scan.has8bit, needsSmtpUtf8: raw.scan.smtpUtf8, messageId: raw.scan.messageId, open: raw.stream };
    recipients = [...new Set(parseAddressList([...to, ...cc, ...bcc], "recipient").map((m) => m.address))];
  } else {
    if (values.subject === undefined) throw new MailplanError("USAGE", "send needs --subject (it may be empty) and --text or --text-file.", "or send a complete message with --message FILE.eml");
    const composed = await composeMessage({
      from, to, cc, bcc, subject: values.subject, text: values.text, textFile: values["text-file"], htmlFile: values["html-file"], attachments: values.attach,
    });
    message = { size: composed.size, has8bit: composed.has8bit, needsSmtpUtf8: composed.smtpUtf8, messageId: composed.messageId, open: composed.stream };
    recipients = composed.envelope.recipients;
  }
  const transcript = new Transcript();
  if (values.verbose) {
    io.err(`config ${safeText(chosen.described)}\n`);
    transcript.onLine = (l) => io.err(`${l.dir} ${l.text}\n`);
  }
  let transcriptFile: OutputFile | undefined;
  try {
    if (values.queue && values["no-queue"]) throw new MailplanError("USAGE", "--queue and --no-queue contradict each other.", "use one of them");
    // --no-queue never touches the outbox (not even to find its folder: that may need $HOME).
    const outbox = () => ({ dir: outboxDir(loaded.config.outbox, loaded.baseDir, io.env), config: resolve(loaded.file) });
    const mode: SendMode = values["no-queue"] ? { kind: "direct" } : values.queue ? { kind: "queue-only", outbox: outbox() } : { kind: "write-ahead", outbox: outbox() };
    // Every output file is opened now, before connecting: after the server's 250 nothing local may fail the send.
    if (values.transcript !== undefined) transcriptFile = openOutputFile(values.transcript, "--transcript");
    const result: SendOutput = await runSend({
      config: loaded.config, baseDir: loaded.baseDir, envelope: { from: parseMailbox(from, "sender").address, recipients }, message,
      route: values.route, adapter, transcript, mode,
    });
    // From here on the outcome is fixed: local trouble becomes a warning, never a different exit status.
    const warnings = [transcriptFile?.write(transcript.toString())].filter((w): w is string => !!w);
    if (warnings.length) result.warnings = warnings;
    if (result.outbox) report(() => io.err(`warning: outbox: ${safeText(result.outbox!.error)}\n`));
    withProbeHints(result, resolve(loaded.file));
    // Success on stdout (nothing with --quiet); a failure and every warning on stderr, so that
    // `>/dev/null` (cron) still shows them. --json: the result on stdout whatever it says.
    if (values.json) {
      if (!(values.quiet && result.ok)) report(() => io.out(JSON.stringify(result, null, 2) + "\n"));
    } else if (!result.ok) report(() => io.err(renderSendResult(result)));
    else if (!values.quiet) report(() => io.out(renderSendResult(result)));
    if (!values.json) for (const w of warnings) report(() => io.err(`warning: ${w}\n`));
    return exitStatus(result);
  } finally {
    // Clean-up after the outcome is known may warn, never change the exit status.
    try {
      transcriptFile?.close();
    } catch {
      // already reported by write(), or nothing was written
    }
    await dispose().catch((e) => report(() => io.err(`warning: could not remove the temporary copy of the message: ${safeText(String((e as Error)?.message ?? e))}\n`)));
  }
}

/** The result as printed: the contract's result, plus `warnings` when a local step failed after the send. */
type SendOutput = SendResult & { warnings?: string[] };

/** Prints, treating a closed stdout/stderr (EPIPE, EBADF) as a reader who left: the exit status stands. */
function report(print: () => void): void {
  try {
    print();
  } catch {
    // Nobody is reading; the exit status still tells a script what happened.
  }
}
