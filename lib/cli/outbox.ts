/**
 * `outbox list | flush | drop ID`: mail that could not be delivered yet. Flush resends each entry
 * with the current config (the one given, else the one it was queued with), to its pending
 * recipients only, under the entry's lock; an entry leaves the outbox only after the server's
 * final 250 for every recipient (or a permanent refusal). An entry whose last send was cut off
 * mid-way (kill -9, power loss) is not resent blindly: it is reported, and resent only with
 * --resend-unknown, because the server may already have it.
 */
import { resolve } from "node:path";
import { MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { loadConfig } from "../config/load.ts";
import { Transcript } from "../engine/transcript.ts";
import { outboxDir } from "../outbox/dir.ts";
import { beginAttempt, drop, isDue, list, markAttempt, openMessage, type OutboxEntry, withLock } from "../outbox/mod.ts";
import { deliver } from "../engine/deliver.ts";
import { planEnvelope } from "../plan/compile.ts";
import { parseFlags } from "./args.ts";
import type { CliIo } from "./io.ts";
import { safeText } from "./io.ts";
import { suggestion } from "../config/suggest.ts";

const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

/** The outbox folder for these flags: the config's `outbox:` when a config is given, else the environment's. */
function folder(configFile: string | undefined, io: CliIo): string {
  if (!configFile) return outboxDir(undefined, undefined, io.env);
  const loaded = loadConfig(configFile);
  if (!loaded.config) throw new ConfigInvalidError(loaded.problems, configFile);
  return outboxDir(loaded.config.outbox, loaded.baseDir, io.env);
}

function summary(e: OutboxEntry) {
  const last = e.attempts.at(-1);
  return {
    id: e.id, created: e.created, from: e.envelope.from, pending: e.pending, done: e.done.map((d) => d.address),
    rejected: e.rejected.map((r) => ({ address: r.address, code: r.code, text: r.text })), attempts: e.attempts.length,
    lastError: last?.error ?? e.reason, nextAttempt: e.nextAttempt, interrupted: e.inflight !== null, messageId: e.messageId, size: e.size,
  };
}

/** One entry's outcome in a flush. */
interface FlushOutcome {
  id: string;
  status: "delivered" | "pending" | "interrupted" | "busy" | "gone";
  accepted: string[];
  rejected: { address: string; code: number; text: string }[];
  pending: string[];
  error: { code: string; message: string } | null;
}

async function flushOne(dir: string, id: string, opts: { config?: string; resendUnknown: boolean; io: CliIo }): Promise<FlushOutcome> {
  const blank = { accepted: [], rejected: [], pending: [], error: null };
  const r = await withLock(dir, id, async (entry, lock): Promise<FlushOutcome> => {
    if (entry.inflight && !opts.resendUnknown) {
      return {
        ...blank, id, status: "interrupted", pending: entry.pending,
        error: { code: "DELIVERY_UNKNOWN", message: `A send of this entry was cut off at ${entry.inflight.at}; the server may already have it. Run \`mailplan outbox flush --resend-unknown\` to send it again (possible duplicate), or \`mailplan outbox drop ${id}\`.` },
      };
    }
    const configFile = opts.config ?? entry.config;
    if (!configFile) throw new MailplanError("USAGE", `Outbox entry ${id} does not say which config it was queued with.`, "run mailplan outbox flush --config FILE");
    const loaded = loadConfig(configFile);
    if (!loaded.config) throw new ConfigInvalidError(loaded.problems, configFile);
    const route = entry.route && loaded.config.routes.some((x) => x.name === entry.route) ? entry.route : undefined;
    const plan = planEnvelope(loaded.config, { from: entry.envelope.from, to: entry.pending }, { route });
    const message = await openMessage(dir, id);
    const out: FlushOutcome = { ...blank, id, status: "pending", accepted: [], rejected: [] };
    for (const tx of plan.transactions) {
      await beginAttempt(dir, id, { relay: tx.relays[0].relay }, lock);
      const result = await deliver(tx, message, { baseDir: loaded.baseDir, transcript: new Transcript() });
      if (result.error?.code === "DELIVERY_UNKNOWN") {
        out.error = { code: result.error.code, message: result.error.message };
        out.status = "interrupted"; // inflight stays set: the next flush reports it instead of resending
        continue;
      }
      const permanent = result.rejected.filter((x) => x.code >= 500);
      out.accepted.push(...result.accepted);
      out.rejected.push(...permanent);
      const failed = result.ok || result.error?.code === "RECIPIENTS_REJECTED" ? null : { code: result.error!.code, message: result.error!.message };
      if (failed) out.error = failed;
      const { entry: after, removed } = await markAttempt(dir, id, { relay: result.relay, accepted: result.accepted, rejectedPermanent: permanent, temporaryError: failed }, lock);
      out.pending = removed ? [] : after.pending;
      if (removed) out.status = "delivered";
    }
    return out;
  });
  return r.status === "done" ? r.value : { ...blank, id, status: r.status };
}

/** `outbox …`: returns the exit status. */
export async function outboxCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "list") {
    const { values } = parseFlags("outbox list", rest, { config: { type: "string" }, json: { type: "boolean" } });
    const dir = folder(values.config, io);
    const { entries, problems } = await list(dir);
    if (values.json) {
      io.out(json({ dir, entries: entries.map(summary), problems }));
      return 0;
    }
    io.out(safeText(`${entries.length} message${entries.length === 1 ? "" : "s"} in ${dir}`) + "\n");
    for (const e of entries.map(summary)) {
      io.out(safeText(`${e.id}  from ${e.from} to ${e.pending.join(", ")}  ${e.attempts} attempt${e.attempts === 1 ? "" : "s"}, last: ${e.lastError ? `${e.lastError.code} ${e.lastError.message}` : "none"}${e.interrupted ? "  (last send was cut off)" : ""}`) + "\n");
    }
    for (const p of problems) io.out(safeText(`${p.id}: ${p.kind}: ${p.detail}${p.removed ? " (removed)" : ""}`) + "\n");
    return 0;
  }
  if (sub === "flush") {
    const { values } = parseFlags("outbox flush", rest, { config: { type: "string" }, json: { type: "boolean" }, "resend-unknown": { type: "boolean" }, due: { type: "boolean" } });
    const dir = folder(values.config, io);
    const { entries: all } = await list(dir);
    const entries = values.due ? all.filter((e) => isDue(e)) : all;
    const outcomes: FlushOutcome[] = [];
    for (const e of entries) {
      outcomes.push(await flushOne(dir, e.id, { config: values.config ? resolve(values.config) : undefined, resendUnknown: values["resend-unknown"] ?? false, io }));
    }
    const left = outcomes.filter((o) => o.status === "pending" || o.status === "interrupted" || o.status === "busy");
    if (values.json) io.out(json({ dir, ok: left.length === 0, outcomes }));
    else {
      io.out(safeText(`${outcomes.filter((o) => o.status === "delivered").length} of ${outcomes.length} delivered from ${dir}`) + "\n");
      for (const o of outcomes) io.out(safeText(`${o.id}: ${o.status}${o.pending.length ? ` (still pending: ${o.pending.join(", ")})` : ""}${o.error ? ` — ${o.error.code}: ${o.error.message}` : ""}`) + "\n");
    }
    return left.length === 0 ? 0 : 75;
  }
  if (sub === "drop") {
    const { values, positionals } = parseFlags("outbox drop", rest, { config: { type: "string" } }, 1);
    const id = positionals[0];
    if (!id) throw new MailplanError("USAGE", "outbox drop needs the id of an entry.", "mailplan outbox list shows them");
    const dir = folder(values.config, io);
    const entry = await drop(dir, id);
    io.out(safeText(entry ? `dropped ${id} (from ${entry.envelope.from} to ${entry.pending.join(", ")})` : `${id} was already gone`) + "\n");
    return 0;
  }
  throw new MailplanError("USAGE", sub ? `Unknown outbox command "${safeText(sub)}".` : "outbox needs a command: list, flush or drop ID.", sub ? suggestion(sub, ["list", "flush", "drop"]) || "use list, flush or drop ID" : "for example: mailplan outbox list");
}
