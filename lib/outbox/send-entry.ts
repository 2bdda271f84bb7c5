/**
 * The outbox's one write-ahead rule, used by `send` and `outbox flush`: with the entry stored and
 * its lock held, deliver; mark the entry "in flight" just before each final dot is written (so
 * only a crash between the dot and its reply leaves it in doubt); then record the outcome:
 *   delivered (every recipient accepted or refused for good) → the entry is removed;
 *   temporary failure → kept, the attempt recorded, retried later;
 *   DELIVERY_UNKNOWN → kept, flagged "cut off" (in flight), never resent blindly;
 *   permanent failure → dropped (`send`: the caller reports it) or moved to the failed folder (`flush`).
 * The deliver function is a parameter (the outbox does not import the engine). A local failure
 * (full disk, read-only folder) never changes what happened on the wire: it comes back as `warning`.
 * @module
 */
import type { OutboxLock } from "./lock.ts";
import { moveToFailed } from "./failed.ts";
import { markAttempt, markInflight, removeEntry } from "./store.ts";
import type { OutboxEntry, OutboxError } from "./types.ts";
import type { ErrorCode } from "../codes.ts";
import { replyClass } from "../smtp/reply.ts";

/** What the outbox reads of a delivery result (the engine's TransactionResult fits). */
export interface DeliveryLike {
  ok: boolean;
  relay: string;
  accepted: string[];
  rejected: { address: string; code: number; text: string }[];
  error?: { code: ErrorCode; message: string; temporary: boolean };
}

/** The hook the deliver function must call right before writing each final dot. */
export interface DotHooks {
  beforeDot(info: { relay: string; recipients: string[] }): Promise<void>;
}

/** How an entry's attempt ended, as the outbox sees it. */
export type EntryStatus = "delivered" | "queued" | "cut-off" | "failed" | "dropped";

/** Codes that end an entry for good in `flush` (dead letter): retrying cannot help. */
export const PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["REJECTED", "MESSAGE_INVALID", "NO_ROUTE"]);

/** The error text of a local failure, for warnings. */
export function describeFsError(e: unknown): string {
  const code = (e as { code?: string }).code;
  const msg = (e as Error)?.message ?? String(e);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/**
 * Delivers a stored entry (held under `lock`) and records the outcome (see the module header).
 * `onPermanent` says what a permanent failure does: `drop` (send) or `fail` (flush: dead letter;
 * only for PERMANENT_CODES, other permanent failures stay queued with the error recorded).
 * @example const r = await sendEntry(dir, id, lock, (hooks) => deliver(tx, message, { baseDir, beforeDot: hooks.beforeDot }), { onPermanent: "drop" });
 */
export async function sendEntry<R extends DeliveryLike>(
  dir: string,
  id: string,
  lock: OutboxLock,
  deliver: (hooks: DotHooks) => Promise<R>,
  opts: { onPermanent: "drop" | "fail"; now?: () => Date },
): Promise<{ result: R; status: EntryStatus; entry: OutboxEntry | null; warning: string | null }> {
  const now = opts.now ?? (() => new Date());
  let present = true; // the entry still exists (a failed in-flight mark removes it)
  let warning: string | null = null;
  const hooks: DotHooks = {
    async beforeDot(info) {
      if (!present) return;
      try {
        await markInflight(dir, id, { relay: info.relay, recipients: info.recipients, at: now() }, lock);
      } catch (e) {
        // Without the mark, a crash after the dot would leave an entry a flush resends: remove it.
        present = false;
        try {
          await removeEntry(dir, id);
          warning = `the outbox could not record the send in progress (${describeFsError(e)}), so the message is not kept in the outbox`;
        } catch {
          warning = `the outbox could not record the send in progress (${describeFsError(e)}) nor remove entry ${id}: if this send is reported as delivered, drop it with \`mailplan outbox drop ${id}\``;
        }
      }
    },
  };
  const result = await deliver(hooks);
  if (!present) return { result, status: "dropped", entry: null, warning };
  const code = result.error?.code;
  const settledOk = result.ok || code === "RECIPIENTS_REJECTED";
  const permanentRejects = result.rejected.filter((x) => replyClass(x.code) === "permanent");
  const failure: OutboxError | null = settledOk || !result.error ? null : { code: result.error.code, message: result.error.message };
  try {
    if (!settledOk && result.error && !result.error.temporary && code !== "DELIVERY_UNKNOWN") {
      if (opts.onPermanent === "drop") {
        await removeEntry(dir, id);
        return { result, status: "dropped", entry: null, warning };
      }
      // A dead letter keeps its refused recipients pending, so that `outbox retry` can send to them again.
      const dead = PERMANENT_CODES.has(code!);
      const { entry, removed } = await markAttempt(dir, id, { relay: result.relay, accepted: result.accepted, rejectedPermanent: dead ? [] : permanentRejects, temporaryError: failure, at: now() }, lock);
      if (removed) return { result, status: "delivered", entry, warning };
      if (dead) return { result, status: "failed", entry: await moveToFailed(dir, entry, failure!, lock, now()), warning };
      return { result, status: "queued", entry, warning };
    }
    const unknown = code === "DELIVERY_UNKNOWN";
    const { entry, removed } = await markAttempt(dir, id, {
      relay: result.relay,
      accepted: result.accepted,
      rejectedPermanent: permanentRejects,
      temporaryError: failure,
      unknown,
      at: now(),
    }, lock);
    if (removed) return { result, status: "delivered", entry, warning };
    return { result, status: unknown ? "cut-off" : settledOk ? "delivered" : "queued", entry, warning };
  } catch (e) {
    const what = settledOk
      ? `the message was delivered, but its outbox entry ${id} could not be updated (${describeFsError(e)}); it stays flagged as cut off, so no flush resends it blindly: drop it with \`mailplan outbox drop ${id}\``
      : `outbox entry ${id} could not be updated after this attempt (${describeFsError(e)}); it is still in the outbox`;
    return { result, status: settledOk ? "delivered" : "queued", entry: null, warning: warning ? `${warning}; ${what}` : what };
  }
}
