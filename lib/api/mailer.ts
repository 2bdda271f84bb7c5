/**
 * `createMailer`: mailplan as a library, the same pipeline as `mailplan send` (plan → deliver
 * each transaction → the contract's result), for scripts on Bun, Deno and Node ≥ 20.
 *
 * Invariants:
 * - `send` resolves to exactly what `mailplan send --json` prints; a delivery failure is a result
 *   (`ok: false`, `error`), never a rejection. It rejects only with MailplanError for bad input
 *   (config, address, message, unknown route), before any connection.
 * - Temporary failures are kept in the outbox (written ahead, like the CLI) unless `outbox: false`.
 * - Secrets come from `env` when given, and are never in results or errors.
 * - The config is read once, at createMailer; nothing touches the filesystem when the config is
 *   text or an object, secrets come from `env`, attachments are in memory and `outbox` is false.
 *
 * ```ts
 * import { createMailer } from "mailplan";
 * const mailer = createMailer({ config: "./mail.yaml" });
 * const r = await mailer.send({ from: "app@example.com", to: ["ops@example.com"], subject: "Hi", text: "Hello" });
 * if (!r.ok) console.error(r.error?.code, r.error?.message);
 * await mailer.close();
 * ```
 */
import { MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { problemToJson } from "../config/problem.ts";
import type { Config } from "../config/schema.ts";
import { planEnvelope } from "../plan/compile.ts";
import type { SendMode, SendResult } from "../cli/send-run.ts";
import { readConfigInput } from "./config-input.ts";
import type { CheckResult, Mailer, MailerOptions, PlanOptions, SendOptions } from "./types.ts";
import process from "node:process";

/**
 * The sending half (engine, sockets, message composition, outbox) is loaded on the first send,
 * not when mod.ts is imported: `mailplan --version`, `check` and `plan` run through mod.ts too,
 * and must not pay for it at start-up.
 */
function loadSender() {
  return Promise.all([
    import("../cli/send-run.ts"),
    import("../cli/send.ts"),
    import("../engine/transcript.ts"),
    import("../outbox/dir.ts"),
    import("./message-input.ts"),
  ]).then(([run, cli, transcript, dir, input]) => ({
    runSend: run.runSend, withProbeHints: cli.withProbeHints, Transcript: transcript.Transcript, outboxDir: dir.outboxDir, prepareMessage: input.prepareMessage,
  }));
}

/**
 * Creates a mailer. Throws CONFIG_INVALID (a ConfigInvalidError with every problem) when the
 * config does not validate, USAGE when `config` is missing.
 * @example const mailer = createMailer({ config: yamlText, env: { SMTP_PASSWORD: secret }, outbox: false });
 */
export function createMailer(options: MailerOptions): Mailer {
  if (!options || typeof options !== "object") throw new MailplanError("USAGE", "createMailer needs an options object with config.", "for example createMailer({ config: \"./mail.yaml\" })");
  const { loaded, path } = readConfigInput(options.config, { env: options.env, baseDir: options.baseDir });
  if (!loaded.config) throw new ConfigInvalidError(loaded.problems, loaded.file);
  const config: Config = loaded.config;
  const env = options.env;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  const outboxFor = (message: SendOptions, outboxDir: (o: string | undefined, d: string, e: Record<string, string | undefined>) => string) => {
    if (options.outbox === false || message.outbox === false) return undefined;
    const dir = typeof options.outbox === "string" ? options.outbox : outboxDir(config.outbox, loaded.baseDir, env ?? process.env);
    return { dir, config: path ?? "" }; // "": `outbox flush` then asks for --config
  };

  async function send(message: SendOptions): Promise<SendResult> {
    if (closed) throw new MailplanError("USAGE", "This mailer is closed.", "create a new one with createMailer");
    const { runSend, withProbeHints, Transcript, outboxDir, prepareMessage } = await loadSender();
    const prepared = await prepareMessage(message);
    try {
      const transcript = new Transcript();
      if (message.onTranscript) {
        const cb = message.onTranscript;
        transcript.onLine = (l) => cb(`${l.dir} ${l.text}`);
      }
      // The one call into the CLI's send pipeline (lib/cli/send-run.ts).
      const result = await runSend({
        config, baseDir: loaded.baseDir, envelope: prepared.envelope, message: prepared.message,
        route: message.route, adapter: options.adapter, transcript, env, mode: sendMode(outboxFor(message, outboxDir)),
      });
      if (path) withProbeHints(result, path);
      return result;
    } finally {
      await prepared.dispose();
    }
  }

  return {
    send(message) {
      const p = send(message);
      inFlight.add(p);
      const done = () => void inFlight.delete(p);
      p.then(done, done);
      return p;
    },
    plan(envelope: PlanOptions) {
      if (typeof envelope?.from !== "string") throw new MailplanError("USAGE", "plan needs from and to.", "for example mailer.plan({ from: \"me@example.com\", to: [\"you@example.com\"] })");
      const to = typeof envelope?.to === "string" ? [envelope.to] : [...(envelope?.to ?? [])];
      return planEnvelope(config, { from: envelope?.from, to }, { route: envelope?.route });
    },
    check(): CheckResult {
      const fresh = readConfigInput(options.config, { env: options.env, baseDir: options.baseDir, references: true }).loaded;
      const errors = fresh.problems.filter((p) => p.severity === "error").length;
      return { ok: errors === 0, file: fresh.file, errors, warnings: fresh.problems.length - errors, problems: fresh.problems.map(problemToJson) };
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** The outbox's part in a library send: written ahead to the outbox, or (`outbox: false`) direct. */
function sendMode(outbox: { dir: string; config: string } | undefined): SendMode {
  return outbox ? { kind: "write-ahead", outbox } : { kind: "direct" };
}
