/**
 * `outbox flush`, entry by entry: each entry is sent along the plan of the config the flush was
 * given (never a config the entry names: an entry only records its config path, to report a
 * mismatch), under its lock, through sendEntry. One bad entry never stops the others: a corrupt
 * or unsafe state, an empty recipient list, NO_ROUTE, a bad address or a changed message file is
 * reported with the entry's id and reason, and the flush goes on. Entries older than
 * `outbox_max_age`, and permanent failures, move to the failed folder and are never retried.
 * @module
 */
import { MailplanError } from "../codes.ts";
import type { Config } from "../config/schema.ts";
import { planEnvelope } from "../plan/compile.ts";
import type { TransactionPlan } from "../plan/types.ts";
import { replyClass } from "../smtp/reply.ts";
import { moveToFailed, settleMoves } from "./failed.ts";
import type { OutboxLock } from "./lock.ts";
import { UnsafeEntryError } from "./safe-fs.ts";
import { describeFsError, type DeliveryLike, type DotHooks, PERMANENT_CODES, sendEntry } from "./send-entry.ts";
import { isDue, isExpired } from "./state.ts";
import { cleanup, list, MessageMismatchError, openMessage, withLock } from "./store.ts";
import type { OutboxEntry, OutboxError, OutboxMessage } from "./types.ts";

/** One entry's outcome in a flush. */
export interface FlushOutcome {
  id: string;
  /**
   * delivered: left the outbox; pending: kept for a later flush; interrupted: a send was cut off
   * after its final dot (not resent without --resend-unknown); failed: moved to the failed folder;
   * corrupt: its files cannot be used (see `error`); busy: another process is sending it; gone: removed meanwhile.
   */
  status: "delivered" | "pending" | "interrupted" | "failed" | "corrupt" | "busy" | "gone";
  accepted: string[];
  rejected: { address: string; code: number; text: string }[];
  pending: string[];
  /** A contract code, or UNSAFE / CORRUPT for an entry whose files cannot be used. */
  error: { code: OutboxError["code"] | "UNSAFE" | "CORRUPT"; message: string } | null;
  /** Notes that change nothing (e.g. the entry was queued with another config). */
  notes: string[];
  /** A local failure of the outbox (the outcome on the wire is as reported). */
  warning?: string;
}

/** What a flush needs: the config it sends with, and the deliver function (the engine's). */
export interface FlushOptions<R extends DeliveryLike> {
  config: Config;
  /** Absolute path of that config (compared with each entry's, reported when they differ). */
  configFile: string;
  deliver: (tx: TransactionPlan, message: OutboxMessage, hooks: DotHooks) => Promise<R>;
  resendUnknown?: boolean;
  /** Only entries whose next attempt has come. */
  due?: boolean;
  /** Only these ids. */
  ids?: string[];
  /** `outbox_max_age` in milliseconds. */
  maxAgeMs: number;
  /** The text of `outbox_max_age`, for messages. */
  maxAgeText: string;
  now?: () => Date;
}

const blank = { accepted: [], rejected: [], pending: [], error: null, notes: [] };

/**
 * Flushes the outbox in `dir`; returns one outcome per entry (corrupt ones included).
 * @example const outcomes = await flushOutbox(dir, { config, configFile, deliver: (tx, m, h) => deliver(tx, m, { baseDir, beforeDot: h.beforeDot }), maxAgeMs, maxAgeText: "5d" });
 */
export async function flushOutbox<R extends DeliveryLike>(dir: string, opts: FlushOptions<R>): Promise<FlushOutcome[]> {
  const now = opts.now ?? (() => new Date());
  await cleanup(dir);
  await settleMoves(dir);
  const { entries, problems } = await list(dir);
  const wanted = (id: string) => !opts.ids || opts.ids.includes(id);
  const outcomes: FlushOutcome[] = problems.filter((p) => wanted(p.id)).map((p) => ({ ...blank, id: p.id, status: "corrupt" as const, error: { code: p.kind === "unsafe" ? "UNSAFE" : "CORRUPT", message: p.detail }, notes: [] }));
  for (const e of entries) {
    if (!wanted(e.id) || (opts.due && !isDue(e, now()) && !opts.ids)) continue;
    outcomes.push(await flushEntry(dir, e.id, opts, now));
  }
  return outcomes.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** One entry, under its lock; never throws for a problem of this entry. */
async function flushEntry<R extends DeliveryLike>(dir: string, id: string, opts: FlushOptions<R>, now: () => Date): Promise<FlushOutcome> {
  try {
    const r = await withLock(dir, id, (entry, lock) => flushLocked(dir, entry, lock, opts, now));
    return r.status === "done" ? r.value : { ...blank, id, status: r.status, notes: [] };
  } catch (e) {
    if (e instanceof MailplanError && e.code === "TEMPORARY_FAILURE") return { ...blank, id, status: "busy", error: { code: e.code, message: e.message }, notes: [] };
    if (!(e instanceof UnsafeEntryError) && /^E[A-Z]+$/.test((e as { code?: string }).code ?? "")) {
      // The folder, not the entry: a read-only or full disk. The entry stays as it is.
      return { ...blank, id, status: "pending", error: { code: "TEMPORARY_FAILURE", message: `The outbox could not be written (${describeFsError(e)}); the entry was not tried.` }, notes: [] };
    }
    return { ...blank, id, status: "corrupt", error: { code: e instanceof UnsafeEntryError ? "UNSAFE" : "CORRUPT", message: describeFsError(e) }, notes: [] };
  }
}

async function flushLocked<R extends DeliveryLike>(dir: string, entry: OutboxEntry, lock: OutboxLock, opts: FlushOptions<R>, now: () => Date): Promise<FlushOutcome> {
  const id = entry.id;
  const out: FlushOutcome = { ...blank, id, status: "pending", pending: entry.pending, accepted: [], rejected: [], notes: [] };
  if (entry.config && entry.config !== opts.configFile) {
    out.notes.push(`queued with the config ${entry.config}; sent along the plan of ${opts.configFile}`);
  }
  const fail = async (error: OutboxError): Promise<FlushOutcome> => {
    await moveToFailed(dir, entry, error, lock, now());
    return { ...out, status: "failed", error };
  };
  if (entry.inflight && !opts.resendUnknown) {
    return {
      ...out,
      status: "interrupted",
      error: { code: "DELIVERY_UNKNOWN", message: `A send of this entry was cut off after its final dot at ${entry.inflight.at}; the server may already have it. Run \`mailplan outbox flush --config ${opts.configFile} --resend-unknown ${id}\` to send it again (possibly a duplicate), or \`mailplan outbox drop ${id}\`.` },
    };
  }
  if (isExpired(entry, opts.maxAgeMs, now())) {
    const last = entry.attempts.at(-1)?.error ?? entry.reason;
    return await fail({ code: last.code, message: `Not delivered within outbox_max_age (${opts.maxAgeText}); the last error was: ${last.message}` });
  }
  if (entry.pending.length === 0) return await fail({ code: "MESSAGE_INVALID", message: "The entry has no pending recipient (its state was changed by hand)." });
  let plan;
  try {
    plan = planEnvelope(opts.config, { from: entry.envelope.from, to: entry.pending }, { route: entry.route && opts.config.routes.some((x) => x.name === entry.route) ? entry.route : undefined });
  } catch (e) {
    if (e instanceof MailplanError && PERMANENT_CODES.has(e.code)) return await fail({ code: e.code, message: e.message });
    throw e;
  }
  let message: OutboxMessage;
  try {
    message = await openMessage(dir, id, entry);
  } catch (e) {
    if (e instanceof MessageMismatchError) return await fail({ code: e.code, message: e.message });
    throw e;
  }
  for (const tx of plan.transactions) {
    const r = await sendEntry(dir, id, lock, (hooks) => opts.deliver(tx, message, hooks), { onPermanent: "fail", now });
    const result = r.result;
    out.accepted.push(...result.accepted);
    out.rejected.push(...result.rejected.filter((x) => replyClass(x.code) === "permanent"));
    if (r.warning) out.warning = out.warning ? `${out.warning}; ${r.warning}` : r.warning;
    if (result.error && result.error.code !== "RECIPIENTS_REJECTED") out.error = { code: result.error.code, message: result.error.message };
    if (r.entry) out.pending = r.status === "delivered" && r.entry.pending.length === 0 ? [] : r.entry.pending;
    if (r.status === "failed") return { ...out, status: "failed" };
    if (r.status === "cut-off") out.status = "interrupted";
    else if (r.status === "delivered" && out.status === "pending" && out.pending.length === 0) out.status = "delivered";
  }
  return out;
}

/** The exit status of a flush: 0 when nothing is left to act on; 65 with a corrupt entry; 69 with a new dead letter; else 75. */
export function flushExitStatus(outcomes: FlushOutcome[]): number {
  if (outcomes.some((o) => o.status === "corrupt")) return 65;
  if (outcomes.some((o) => o.status === "failed")) return 69;
  if (outcomes.some((o) => o.status === "pending" || o.status === "interrupted" || o.status === "busy")) return 75;
  return 0;
}
