/** What the engine takes (a message source) and gives back (the contract's per-transaction result). */
import type { SmtpErrorJson } from "../smtp/errors.ts";
import type { Strategy } from "../plan/types.ts";

/** A message to send: its facts known up front, its bytes readable again for each attempt. */
export interface MessageSource {
  /** Octets after CRLF normalisation, declared with SIZE=. */
  size: number;
  /** The message has 8-bit bytes (needs 8BITMIME). */
  has8bit: boolean;
  /** Headers hold non-ASCII addresses (needs SMTPUTF8). */
  needsSmtpUtf8: boolean;
  /** The Message-ID header's value, `<…>`, when the message has one. */
  messageId: string | null;
  /** A fresh stream of the message's bytes; called once per attempt (failover sends it again). */
  open(): AsyncIterable<Uint8Array>;
}

/** The contract's `error` object: the one shape, {@link SmtpErrorJson} (what `SmtpError.toJSON()` returns). */
export type DeliveryError = SmtpErrorJson;

/** TLS facts as the result shows them; fields the adapter cannot see are null. */
export interface TlsSummary {
  version: string | null;
  cipher: string | null;
  adapter: string;
  peer: { subject: string; issuer: string; validTo: string; fingerprint256: string; spkiPin: string } | null;
}

/** One relay tried for a transaction, and how it ended. */
export interface AttemptSummary {
  relay: string;
  server: { host: string; port: number; strategy: Strategy };
  error: DeliveryError | null;
}

/** The contract's `send --json` result for one transaction. */
export interface TransactionResult {
  ok: boolean;
  route: string;
  relay: string;
  server: { host: string; port: number; strategy: Strategy };
  tls: TlsSummary | null;
  accepted: string[];
  rejected: { address: string; code: number; text: string }[];
  response: { code: number; text: string } | null;
  messageId: string | null;
  error?: DeliveryError;
  /** Every relay tried, in order (failover). */
  attempts: AttemptSummary[];
  /** Set when the message (for the recipients still pending) was stored in the outbox. */
  queued?: { id: string; dir: string };
}
