/**
 * The outbox's state changes as pure functions (no filesystem): what an attempt's outcome does to
 * an entry, when an entry is due or too old. Invariants kept by every function here: each
 * recipient of the envelope is in exactly one of pending / done / rejected; a recipient in done
 * or rejected never goes back to pending; the input entry is never modified.
 * @module
 */
import type { AttemptOutcome, Inflight, OutboxEntry } from "./types.ts";

/** Delay before the n-th retry (1-based): 5 min doubling, at most 4 h. */
export function retryDelayMs(n: number): number {
  return Math.min(5 * 60_000 * 2 ** Math.max(0, n - 1), 4 * 3600_000);
}

/**
 * The entry after an attempt: accepted recipients move to `done`, permanently refused ones to
 * `rejected`, the attempt is recorded, `inflight` is cleared (kept when the outcome is unknown).
 * `finished` is true when nothing is pending any more (the entry is to be removed).
 * @example applyOutcome(entry, { accepted: ["a@x"], rejectedPermanent: [], temporaryError: null }, new Date())
 */
export function applyOutcome(entry: OutboxEntry, outcome: AttemptOutcome, now: Date): { entry: OutboxEntry; finished: boolean } {
  const at = (outcome.at ?? now).toISOString();
  const relay = outcome.relay ?? null;
  const pending = new Set(entry.pending);
  const accepted = outcome.accepted.filter((a) => pending.delete(a));
  const rejected = outcome.rejectedPermanent.filter((r) => pending.delete(r.address));
  const attempts = [...entry.attempts, { at, relay, accepted, rejected: rejected.map((r) => r.address), error: outcome.temporaryError }];
  const next: OutboxEntry = {
    ...entry,
    pending: entry.pending.filter((p) => pending.has(p)),
    done: [...entry.done, ...accepted.map((address) => ({ address, at, relay }))],
    rejected: [...entry.rejected, ...rejected.map((r) => ({ address: r.address, code: r.code, text: r.text, at }))],
    attempts,
    inflight: outcome.unknown ? entry.inflight : null,
    nextAttempt: (outcome.nextAttempt ?? new Date(Date.parse(at) + retryDelayMs(attempts.length))).toISOString(),
  };
  return { entry: next, finished: next.pending.length === 0 && next.inflight === null };
}

/**
 * The entry with `inflight` set for an attempt whose final dot is about to go out. Recipients of
 * an earlier unanswered dot stay flagged (the union), so a retry never hides a possible delivery.
 * @example withInflight(entry, { relay: "primary", recipients: ["a@x"] }, new Date(), 1234)
 */
export function withInflight(entry: OutboxEntry, info: { relay: string | null; recipients: string[] }, now: Date, pid: number): OutboxEntry {
  const before = entry.inflight?.recipients ?? [];
  const inflight: Inflight = { at: now.toISOString(), relay: info.relay, pid, recipients: [...new Set([...before, ...info.recipients])] };
  return { ...entry, inflight };
}

/** True when the entry's next attempt time has come. */
export function isDue(entry: OutboxEntry, now: Date = new Date()): boolean {
  return Date.parse(entry.nextAttempt) <= now.getTime();
}

/** True when the entry was queued (or last retried) more than `maxAgeMs` ago: it then goes to the failed folder. */
export function isExpired(entry: OutboxEntry, maxAgeMs: number, now: Date = new Date()): boolean {
  return now.getTime() - Date.parse(entry.retried ?? entry.created) > maxAgeMs;
}

/** Default `outbox_max_age`: 5 days, as Postfix's maximal_queue_lifetime. */
export const DEFAULT_MAX_AGE = "5d";

/**
 * Parses an `outbox_max_age` value: `<number><unit>` parts, unit ms, s, m, h or d.
 * @example ageMs("5d") // 432000000
 */
export function ageMs(text: string): number | undefined {
  if (!/^(?:\d+(?:ms|s|m|h|d))+$/.test(text)) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * unit[m[2] as keyof typeof unit];
  return total;
}
