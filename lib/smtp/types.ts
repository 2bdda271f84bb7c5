/**
 * Public types of the session: options in, actions out, the result.
 * @module
 */
import type { AuthMechanismName } from "./auth/types.ts";
import type { SmtpError } from "./errors.ts";
import type { ReplyLimits } from "./reply.ts";

/** How the connection reaches TLS: STARTTLS upgrade, TLS from the first byte, or none. */
export type Strategy = "starttls" | "implicit" | "plain";

/** `security.tls` of the config. */
export type TlsPolicy = "required" | "opportunistic" | "none";

/** Facts about a verified TLS connection, as measured by the engine; passed through to the result. */
export interface TlsFacts {
  version?: string | null;
  cipher?: string | null;
  peer?: { subject?: string; fingerprint256?: string; [key: string]: unknown } | null;
  [key: string]: unknown;
}

/** AUTH settings with the secret already resolved. */
export interface SessionAuth {
  mechanism: AuthMechanismName;
  user: string;
  /** Password, or the OAuth2 access token for XOAUTH2. */
  password: string;
}

/** The SMTP envelope of one transaction. */
export interface Envelope {
  /** Reverse-path; "" sends `MAIL FROM:<>`. */
  from: string;
  recipients: string[];
}

/** One message of a session's queue: its envelope and the message facts MAIL FROM declares. */
export interface TransactionSpec {
  envelope: Envelope;
  /** Octets after CRLF normalisation (SIZE=). */
  messageSize?: number;
  /** The body has 8-bit bytes: BODY=8BITMIME is declared and required. */
  needs8bit?: boolean;
  /** The message needs SMTPUTF8 (also inferred from non-ASCII envelope addresses). */
  needsSmtpUtf8?: boolean;
}

/** What one transaction of a multi-transaction session ended with (the `transaction` action). */
export interface TransactionOutcome {
  /** Position in `SessionOptions.transactions`. */
  index: number;
  accepted: string[];
  rejected: RecipientRejection[];
  /** Reply to this message's final dot, or null. */
  response: { code: number; text: string } | null;
  /** null: the server took the message (RECIPIENTS_REJECTED may still be set in `partial`). */
  error: SmtpError | null;
  /** Set on success when some recipients were refused: code RECIPIENTS_REJECTED. */
  partial?: SmtpError;
}

/** Everything a session needs; validated by the constructor (CONFIG_INVALID / MESSAGE_INVALID). */
export interface SessionOptions {
  strategy: Strategy;
  tls: TlsPolicy;
  /** Allow AUTH without TLS (default false). */
  allowPlaintextAuth?: boolean;
  /** EHLO/HELO name. */
  helo: string;
  auth?: SessionAuth;
  /** Absent (and no `transactions`): probe mode, the session stops (QUIT) after EHLO and AUTH. */
  envelope?: Envelope;
  /**
   * Several messages on this one connection, in this order (instead of `envelope` and the message
   * facts below): each ends with a `transaction` action; the final `done`/`fail` is the connection's.
   */
  transactions?: TransactionSpec[];
  /** Message size in octets (see `messageSize()`), declared with SIZE= and checked against the limit. */
  messageSize?: number;
  /** The body has 8-bit bytes: BODY=8BITMIME is declared and required. */
  needs8bit?: boolean;
  /** The message needs SMTPUTF8 (also inferred from non-ASCII envelope addresses). */
  needsSmtpUtf8?: boolean;
  /** Reply parser bounds and the AUTH challenge bound (default 10). */
  limits?: Partial<ReplyLimits> & { maxAuthRounds?: number };
}

/** A recipient the server refused. */
export interface RecipientRejection {
  address: string;
  code: number;
  text: string;
}

/** What the session learned; on failure, filled as far as the session got. */
export interface SessionResult {
  /** TLS facts from `tlsEstablished()`, null when the session ran in clear. */
  tls: TlsFacts | null;
  accepted: string[];
  rejected: RecipientRejection[];
  /** Reply to the final dot. */
  response: { code: number; text: string } | null;
  /** Capabilities of the last EHLO (after TLS when TLS is up); null before EHLO or after a HELO fallback. */
  capabilities: Record<string, string[]> | null;
  /** SASL mechanism that succeeded, or null. */
  authenticated: string | null;
  /** Set on success when some recipients were refused: code RECIPIENTS_REJECTED. */
  error?: SmtpError;
}

/** What the engine must do next, in order. */
export type Action =
  /** Write these bytes; `redacted` is the transcript form when the bytes hold secrets. */
  | { type: "send"; bytes: Uint8Array; redacted?: string }
  /** Start the TLS handshake now, verify it, then call `tlsEstablished()`. */
  | { type: "starttls" }
  /**
   * Stream the body through `BodyEncoder` (terminator included), then call `bodySent()`. `index`:
   * which of `transactions`. The engine may call `bodySent()` before writing the terminator and
   * write the first `send` it returns together with it (one write: RFC 2920 pipelining across messages).
   */
  | { type: "send-body"; index?: number }
  /** One of `transactions` ended (in the order they end): what the server said, and its error or null. */
  | { type: "transaction"; outcome: TransactionOutcome }
  /** Close the connection; always precedes `done`/`fail`. */
  | { type: "close" }
  | { type: "done"; result: SessionResult }
  | { type: "fail"; error: SmtpError; result: SessionResult };

/** What the session is waiting for; the engine picks the deadline from this and `phase`. */
export type Waiting = "reply" | "tls" | "body" | "nothing";
