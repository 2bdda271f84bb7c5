/**
 * `check --login`: for each relay of the config (or the one `--relay` names), one connection that
 * does TLS and AUTH exactly as a send would (the engine's own attempt, same policy, same
 * verification) and then QUITs: the session's probe mode, no envelope, so no MAIL, RCPT or message
 * byte is ever sent (swaks's `--quit-after AUTH`). One attempt per relay, no retry and no
 * failover: the question is "does this relay let us in now".
 *
 * Invariants: the password never appears in the output (runAttempt scrubs server text of it, and
 * only error codes, messages, hints and TLS facts are printed); every human line goes through
 * safeText; the exit status is 0 when every relay let us in, else the contract's exit status of
 * the first failure.
 */
import { EXIT_CODES, MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { loadConfig } from "../config/load.ts";
import { type ChosenConfig, chooseConfig } from "../config/locate.ts";
import { formatProblem } from "../config/problem.ts";
import { suggestion } from "../config/suggest.ts";
import { runAttempt } from "../engine/attempt.ts";
import type { DeliveryError } from "../engine/types.ts";
import { compileConfig } from "../plan/compile.ts";
import type { RelayPlan } from "../plan/types.ts";
import { probeHint } from "../probe/hint.ts";
import { parseFlags } from "./args.ts";
import { type CliIo, safeText } from "./io.ts";
import { adapterFlag } from "./send.ts";

/** One relay's answer, as `--json` prints it. */
export interface LoginResult {
  relay: string;
  host: string;
  port: number;
  ok: boolean;
  /** TLS in use when AUTH ran (null: in clear); a field the adapter cannot see is null. */
  tls: { version: string | null; cipher: string | null } | null;
  /** The SASL mechanism that succeeded; null when the relay has no auth configured or it failed. */
  authenticated: string | null;
  error: DeliveryError | null;
}

/** `check --login [--config FILE] [--relay NAME] [--json] [--net ADAPTER]`. */
export function checkLoginCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("check", args, {
    config: { type: "string" },
    json: { type: "boolean" },
    login: { type: "boolean" },
    relay: { type: "string" },
    net: { type: "string" },
  });
  return checkLogin(chooseConfig("check", values.config, io.env), { relay: values.relay, json: !!values.json, net: values.net }, io);
}

/**
 * Logs in to each relay and prints one line (or one JSON object) per relay.
 * @example await checkLogin(chooseConfig("check", "mail.yaml", env), { json: false }, io) // 0 when every relay let us in
 */
export async function checkLogin(chosen: ChosenConfig, opts: { relay?: string; json: boolean; net?: string }, io: CliIo): Promise<number> {
  const adapter = adapterFlag(opts.net);
  const loaded = loadConfig(chosen.file); // a config with errors is refused as send refuses it; warnings go to stderr
  if (!loaded.config) throw new ConfigInvalidError(loaded.problems, loaded.file);
  for (const p of loaded.problems) io.err(safeText(formatProblem(p)) + "\n");
  const plan = compileConfig(loaded.config);
  const names = Object.keys(plan.relays);
  if (opts.relay !== undefined && !Object.hasOwn(plan.relays, opts.relay)) {
    const s = suggestion(opts.relay, names);
    throw new MailplanError("USAGE", `The config has no relay "${safeText(opts.relay)}".`, s.startsWith("did") ? s : `its relays are: ${names.map(safeText).join(", ")}`);
  }
  const relays = opts.relay !== undefined ? [plan.relays[opts.relay]] : Object.values(plan.relays);
  const results: LoginResult[] = [];
  for (const relay of relays) {
    const r = await runAttempt(relay, { baseDir: loaded.baseDir, adapter });
    const error = r.error ? withHint(r.error, chosen.file, relay.relay) : null;
    const result: LoginResult = {
      relay: relay.relay,
      host: relay.host,
      port: relay.port,
      ok: error === null,
      tls: r.tls ? { version: r.tls.version, cipher: r.tls.cipher } : null,
      authenticated: error ? null : r.session?.authenticated ?? null,
      error,
    };
    results.push(result);
    if (!opts.json) (result.ok ? io.out : io.err)(line(result, relay) + "\n");
  }
  const failed = results.filter((r) => !r.ok);
  if (opts.json) {
    io.out(JSON.stringify({ ok: failed.length === 0, file: chosen.file, relays: results }, null, 2) + "\n");
  } else {
    const summary = `${safeText(chosen.described)}: ${results.length - failed.length} of ${results.length} relay${results.length === 1 ? "" : "s"} let us in`;
    (failed.length ? io.err : io.out)(`${summary}${failed.length ? "" : ": ok"} (nothing was sent).\n`);
  }
  return failed.length ? EXIT_CODES[failed[0].error!.code] : 0;
}

/** "ok    primary  smtp.example.com:587  TLSv1.3, AUTH PLAIN as app@example.com" or the failure's code, message and hint. */
function line(r: LoginResult, relay: RelayPlan): string {
  const where = `${safeText(r.relay)}  ${safeText(r.host)}:${r.port}`;
  if (!r.ok) {
    const e = r.error!;
    return `FAIL  ${where}  ${e.code} (${e.phase}): ${safeText(e.message)}${e.hint ? ` Hint: ${safeText(e.hint)}.` : ""}`.replace(/\.\. /g, ". ");
  }
  const tls = r.tls ? safeText(r.tls.version ?? "TLS (version not visible to this adapter)") : "no TLS";
  const auth = relay.auth ? `AUTH ${safeText(r.authenticated ?? "?")} as ${safeText(relay.auth.user)}` : "no auth configured (connected and said EHLO only)";
  return `ok    ${where}  ${tls}, ${auth}`;
}

/** A TLS or mode failure ends with the probe command that explains it, as in `send`. */
function withHint(error: DeliveryError, file: string, relay: string): DeliveryError {
  const probe = probeHint(error.code, file, relay);
  return probe && !error.hint.includes("mailplan probe") ? { ...error, hint: error.hint ? `${error.hint}; ${probe}` : probe } : error;
}
