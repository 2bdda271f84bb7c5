/**
 * The library's public types: what `createMailer` takes, what `send` takes and gives back.
 * The result types are the CLI's (`send --json`) exactly, so code that reads one reads the other.
 */
import type { Config } from "../config/schema.ts";
import type { SecretEnv } from "../config/secret.ts";
import type { AttachmentContent } from "../message/compose.ts";
import type { AdapterName } from "../net/conn.ts";
import type { EnvelopePlan } from "../plan/types.ts";
import type { SendResult } from "../cli/send-run.ts";

export type { AttachmentContent, Config, EnvelopePlan, SecretEnv, SendResult };
export type { DeliveryError, TlsSummary, TransactionResult } from "../engine/types.ts";

/** What `createMailer` takes. */
export interface MailerOptions {
  /**
   * The config: a file path, YAML text (a string with a line break, or starting with `{`), or an
   * object of the same shape as the YAML (`{ version: 1, relays: {…}, routes: […] }`).
   */
  config: string | Config | Record<string, unknown>;
  /**
   * Where `password: { env: NAME }` secrets are read. Default: the process environment. Pass an
   * object on hosts without one (edge functions): `env: { SMTP_PASSWORD: "…" }`.
   */
  env?: SecretEnv;
  /** Folder that relative paths of a text or object config are resolved against (default: the working folder). */
  baseDir?: string;
  /**
   * Where temporary failures are kept for `mailplan outbox flush`: the config's `outbox:`, else
   * $MAILPLAN_OUTBOX (from `env`), else the user's state folder. `false`: keep nothing, only report
   * (the choice for hosts without a filesystem). A string: this folder.
   */
  outbox?: false | string;
  /** Socket adapter (`bun`, `node-tls`, `deno`); default: the runtime's own (node:tls under Deno and Node). */
  adapter?: AdapterName;
}

/** Recipients: one address (`a@x`, `Name <a@x>`, or a comma list) or several. */
export type Recipients = string | readonly string[];

/** What `send` takes: the CLI's message options, or a complete raw message. */
export interface SendOptions {
  /** The sender: `a@x` or `Name <a@x>` (envelope and From header). */
  from: string;
  to?: Recipients;
  cc?: Recipients;
  /** Envelope only, never written to a header. */
  bcc?: Recipients;
  /** Required unless `raw` is given (may be empty). */
  subject?: string;
  /** The plain-text body (required unless `raw` is given). */
  text?: string;
  /** An HTML alternative of the body. */
  html?: string;
  /** File paths, or `{ filename, content, contentType? }` held in memory. */
  attachments?: readonly (string | AttachmentContent)[];
  /** Extra header fields (not Date, From, To, Cc, Subject, Message-ID, MIME-*, Content-*). */
  headers?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /**
   * A complete RFC 5322 message instead of subject/text/html/attachments/headers; the envelope
   * comes from `from` and `to`/`cc`/`bcc`. Bytes or text are sent from memory; a stream (Web
   * ReadableStream or async iterable of bytes) is read once into a private temporary file, as
   * `send --message -` does with stdin, so retries and failover can send it again.
   */
  raw?: Uint8Array | string | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;
  /** Use this route instead of the first match (`send --route`). */
  route?: string;
  /** `false`: do not keep this message in the outbox on a temporary failure. */
  outbox?: boolean;
  /** Receives every line of the SMTP conversation (secrets redacted), as `send --verbose` prints them. */
  onTranscript?: (line: string) => void;
}

/** What `plan` takes: an envelope. */
export interface PlanOptions {
  from: string;
  to: Recipients;
  route?: string;
}

/** What `check` gives back: `mailplan check --json`'s object. */
export interface CheckResult {
  ok: boolean;
  file: string;
  errors: number;
  warnings: number;
  problems: Record<string, unknown>[];
}

/** A configured sender. Never throws for delivery failures: they are in the result. */
export interface Mailer {
  /**
   * Sends one message. Resolves to `send --json`'s result (`ok`, `accepted`, `rejected`,
   * `error`, `queued`…); rejects only with MailplanError for bad input (address, message, config,
   * unknown route) — before anything is sent.
   */
  send(message: SendOptions): Promise<SendResult>;
  /** The connection plan for an envelope (`plan --json`), no network. */
  plan(envelope: PlanOptions): EnvelopePlan;
  /** Validates the config and what it refers to (`check --json`), no network. */
  check(): CheckResult;
  /** Waits for sends in progress; later sends reject. */
  close(): Promise<void>;
}
