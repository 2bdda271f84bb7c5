/**
 * The outbox's own types: what an entry's state file holds, what an attempt reports, and the
 * message shape the outbox stores and streams. The outbox defines these itself (it sits beside
 * the engine, not above it); the engine's MessageSource and results fit them structurally.
 * @module
 */
import type { ErrorCode } from "../codes.ts";

/** A failure as the outbox records it (a contract code: mailplan wrote it). */
export interface OutboxError {
  code: ErrorCode;
  message: string;
}

/** One delivery attempt (at enqueue time: the attempts `send` made). */
export interface OutboxAttempt {
  at: string;
  relay: string | null;
  accepted: string[];
  rejected: string[];
  error: OutboxError | null;
}

/** A message as the outbox stores and replays it (the engine's MessageSource has this shape). */
export interface OutboxMessage {
  /** Octets after CRLF normalisation, declared with SIZE=. */
  size: number;
  has8bit: boolean;
  needsSmtpUtf8: boolean;
  messageId: string | null;
  /** A fresh stream of the message's bytes. */
  open(): AsyncIterable<Uint8Array>;
}

/** Set while the final dot of an attempt may have reached the server and its reply is not known yet. */
export interface Inflight {
  at: string;
  relay: string | null;
  pid: number;
  /** Recipients that may have the message (accepted at RCPT by an attempt whose dot went out). */
  recipients: string[];
}

/** The `<id>.json` state file. */
export interface OutboxEntry {
  version: 1;
  id: string;
  created: string;
  envelope: { from: string; recipients: string[] };
  route: string | null;
  /** Absolute path of the config in use when it was queued: only to report a mismatch, never to choose one. */
  config: string | null;
  /** The Subject header (for `outbox list` / `show`), null when the message has none. */
  subject?: string | null;
  /** Recipients still to deliver, in envelope order. */
  pending: string[];
  /** Recipients the server accepted with a final 250: never sent again. */
  done: { address: string; at: string; relay: string | null }[];
  /** Recipients refused permanently: never sent again. */
  rejected: { address: string; code: number; text: string; at: string }[];
  attempts: OutboxAttempt[];
  /** Not before this time (ISO); `flush` may ignore it. */
  nextAttempt: string;
  /**
   * Set just before an attempt's final dot is written, cleared when its reply is recorded. Still
   * set when the entry is not locked means the send was cut off between the dot and its reply:
   * the server may already have these recipients (DELIVERY_UNKNOWN).
   */
  inflight: Inflight | null;
  /** Why the message was queued. */
  reason: OutboxError;
  messageId: string | null;
  /** MessageSource.size (octets after CRLF normalisation, for SIZE=). */
  size: number;
  /** Length of `<id>.eml` in bytes, and its SHA-256 (hex): checked before the first byte is sent. */
  bytes: number;
  sha256: string;
  has8bit: boolean;
  needsSmtpUtf8: boolean;
  /** When `outbox retry` last moved it back from the failed folder: its age counts from then. */
  retried?: string | null;
  /** Dead letters only: why the entry was moved to the failed folder (never retried from there). */
  failure?: (OutboxError & { at: string }) | null;
}

/** What to enqueue. */
export interface EnqueueInput {
  envelope: { from: string; recipients: string[] };
  route?: string | null;
  /** The config file in use (absolute path): recorded to report a mismatch at flush time. */
  config?: string | null;
  message: OutboxMessage;
  reason: OutboxError;
  /** Attempts already made (e.g. by `send` before giving up). */
  attempts?: OutboxAttempt[];
  /** Recipients already delivered by `send` (excluded from pending). */
  done?: { address: string; relay?: string | null }[];
  /** Recipients already refused permanently by `send` (excluded from pending). */
  rejected?: { address: string; code: number; text: string }[];
  nextAttempt?: Date;
  now?: Date;
}

/** The result of one attempt at an entry. */
export interface AttemptOutcome {
  relay?: string | null;
  /** Recipients of a transaction that ended with the server's final 250. */
  accepted: string[];
  /** Recipients refused with a 5xx (or whose transaction got a 5xx). */
  rejectedPermanent: { address: string; code: number; text: string }[];
  /** Why the rest is still pending (null when nothing else is). */
  temporaryError: OutboxError | null;
  /** The attempt's outcome is unknown (DELIVERY_UNKNOWN): keep `inflight` set. */
  unknown?: boolean;
  at?: Date;
  nextAttempt?: Date;
}

/** An entry the outbox could not use. */
export interface OutboxProblem {
  id: string;
  /** incomplete: .eml without .json (an interrupted enqueue); corrupt: unreadable state or message; unsafe: not ours or not a regular file. */
  kind: "incomplete" | "corrupt" | "unsafe";
  detail: string;
  /** True when cleanup removed it (only incomplete entries whose writer is gone). */
  removed: boolean;
}
