/**
 * The outbox storage layer: durable, crash-safe storage of undelivered messages.
 * @example const id = await enqueue(outboxDir(cfg.outbox, cfgDir, process.env), { envelope, message, reason });
 * @module
 */
export { ensureOutboxDir, type OutboxEnv, outboxDir } from "./dir.ts";
export { isOutboxId, newOutboxId } from "./id.ts";
export { type LockInfo, lockHolder, type OutboxLock, tryLock } from "./lock.ts";
export {
  type AttemptOutcome,
  beginAttempt,
  drop,
  enqueue,
  type EnqueueInput,
  isDue,
  list,
  markAttempt,
  openMessage,
  openMessage as open,
  type OutboxAttempt,
  type OutboxEntry,
  type OutboxError,
  type OutboxProblem,
  parseEntry,
  read,
  retryDelayMs,
  withLock,
} from "./store.ts";
