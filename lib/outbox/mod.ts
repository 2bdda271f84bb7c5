/**
 * The outbox: durable, crash-safe storage of undelivered messages, its write-ahead rule
 * (sendEntry), the per-entry flush, and the failed folder (dead letters).
 * @example const { id, lock } = await store(outboxDir(cfg.outbox, cfgDir, process.env), { envelope, message, reason });
 * @module
 */
export { ensureOutboxDir, type OutboxEnv, outboxDir } from "./dir.ts";
export { isOutboxId, newOutboxId } from "./id.ts";
export { type LockInfo, lockHolder, type OutboxLock, tryLock } from "./lock.ts";
export { checkOutboxDir, UnsafeEntryError } from "./safe-fs.ts";
export { ageMs, applyOutcome, DEFAULT_MAX_AGE, isDue, isExpired, retryDelayMs, withInflight } from "./state.ts";
export { dropFailed, failedDir, listFailed, moveToFailed, readFailed, retryFailed, settleMoves } from "./failed.ts";
export { describeFsError, type DeliveryLike, type DotHooks, type EntryStatus, PERMANENT_CODES, sendEntry } from "./send-entry.ts";
export { type FlushOptions, type FlushOutcome, flushExitStatus, flushOutbox } from "./flush.ts";
export {
  cleanup,
  drop,
  enqueue,
  list,
  markAttempt,
  markInflight,
  MessageMismatchError,
  openMessage,
  openMessage as open,
  parseEntry,
  read,
  store,
  withLock,
} from "./store.ts";
export type { AttemptOutcome, EnqueueInput, Inflight, OutboxAttempt, OutboxEntry, OutboxError, OutboxMessage, OutboxProblem } from "./types.ts";
