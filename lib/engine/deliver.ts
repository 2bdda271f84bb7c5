/**
 * One transaction over its route's relays. Per relay: up to `retry.attempts` tries with
 * exponential backoff and jitter for temporary failures (a TLS handshake timeout is not retried on
 * the same relay); `retry.max_total`, counted from the first try, bounds the whole transaction,
 * failover included: no try starts and no wait would end past it (a try under way runs to its
 * own timeouts, see {@link worstCase}); recipients
 * refused with 4xx are retried alone, accepted ones are never sent again, 5xx ones are final. Then
 * the next relay (failover) on connection, TLS and temporary failures; after a security failure of
 * a `tls: required` relay only a relay whose own policy is as strict — never a weaker one.
 * Permanent refusals, authentication failures and "delivery status unknown" stop at once (the
 * latter is resent only with `retry.delivery_unknown: resend`).
 */
import type { SecretEnv } from "../config/secret.ts";
import type { AdapterName } from "../net/conn.ts";
import type { RelayPlan, TransactionPlan } from "../plan/types.ts";
import { type AttemptResult, runAttempt } from "./attempt.ts";
import { backoffDelay } from "./budget.ts";
import { isSecurityCode } from "../codes.ts";
import { replyClass } from "../smtp/reply.ts";
import type { Transcript } from "./transcript.ts";
import type { AttemptSummary, DeliveryError, MessageSource, TransactionResult } from "./types.ts";

/** What `deliver` needs besides the transaction and the message. */
export interface DeliverOptions {
  /** Folder that relative paths in the plan (ca, client_cert, secret files) are resolved against. */
  baseDir: string;
  /** Where `{ env: NAME }` secrets are read (default process.env). */
  env?: SecretEnv;
  /** Socket adapter; default: Bun native under Bun, node:tls under Deno. */
  adapter?: AdapterName;
  transcript?: Transcript;
  /** Waits between tries (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter (tests pass a constant). */
  random?: () => number;
  /** Milliseconds clock for `max_total` (tests may fake it). */
  now?: () => number;
  /** Silence before a STARTTLS/plain relay's port is tested for implicit TLS (default 2 s; tests shorten it). */
  greetingSilenceMs?: number;
  /**
   * Called right before an attempt writes the final dot, with the recipients the server accepted
   * at RCPT (the outbox marks them "in flight" there). If it throws, the attempt fails (nothing
   * more is written).
   */
  beforeDot?: (info: { relay: string; recipients: string[] }) => Promise<void>;
  /**
   * "Cold sends": when given, each try's result comes at the server's final reply (QUIT written)
   * and the rest of the connection (the 221, the close) finishes in the background; its promise,
   * which never rejects and resolves once the connection is closed, is handed here to be awaited
   * before exit. Absent: every try waits for the 221 (today's behaviour).
   */
  background?: (closing: Promise<void>) => void;
}

export { backoffDelay, worstCase } from "./budget.ts";

const MIN_TLS_RANK = { "1.2": 2, "1.3": 3 } as const;

/** True when `next` demands at least what `failed` demanded (TLS required, verified or pinned, same minimum version or higher). */
export function atLeastAsStrict(next: RelayPlan, failed: RelayPlan): boolean {
  const n = next.security, f = failed.security;
  const nextRequired = next.strategy === "implicit" || (next.strategy === "starttls" && n.tls === "required");
  const authenticated = n.verify || n.pin.length > 0;
  return nextRequired && authenticated && MIN_TLS_RANK[n.min_tls] >= MIN_TLS_RANK[f.min_tls];
}



/** Whether the same relay is worth another try after this failure. */
function retryable(error: DeliveryError, relay: RelayPlan): boolean {
  if (error.code === "DELIVERY_UNKNOWN") return relay.retry.delivery_unknown === "resend";
  if (isSecurityCode(error.code)) return false;
  // A server that accepts STARTTLS (or the connection) and then never completes the handshake
  // does the same on the next try (C8): the next relay may do better, this one will not.
  if (error.code === "TIMEOUT" && error.phase === "tls") return false;
  return error.temporary;
}

function mayFailOver(error: DeliveryError, failed: RelayPlan, next: RelayPlan | undefined): boolean {
  if (!next) return false;
  if (error.code === "DELIVERY_UNKNOWN") return failed.retry.delivery_unknown === "resend";
  if (isSecurityCode(error.code)) {
    const required = failed.strategy === "implicit" || failed.security.tls === "required";
    return !required || atLeastAsStrict(next, failed);
  }
  if (error.code === "CONNECT_FAILED" || error.code === "TIMEOUT" || error.code === "PROTOCOL_ERROR") return true;
  return error.temporary;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Sends one transaction; never throws. */
export async function deliver(tx: TransactionPlan, message: MessageSource, options: DeliverOptions): Promise<TransactionResult> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const t = options.transcript;
  const attempts: AttemptSummary[] = [];
  const accepted: string[] = [];
  const refused = new Map<string, { address: string; code: number; text: string }>();
  let pending = [...tx.recipients];
  let last: { relay: RelayPlan; r: AttemptResult } | undefined;
  // retry.max_total bounds the whole send, failover included: no try starts and no wait ends past it.
  const started = now();

  relays: for (let i = 0; i < tx.relays.length; i++) {
    const relay = tx.relays[i];
    const server = { host: relay.host, port: relay.port, strategy: relay.strategy };
    for (let n = 1; n <= relay.retry.attempts; n++) {
      if (n > 1) {
        const wait = backoffDelay(relay, n - 1, random);
        if (now() - started + wait >= relay.retry.max_total_ms) {
          t?.note(`no more tries on ${relay.relay}: retry.max_total (${relay.retry.max_total_ms / 1000}s) would be exceeded`);
          break;
        }
        t?.note(`try ${n} of ${relay.retry.attempts} on ${relay.relay} in ${wait} ms, for ${pending.join(", ")}`);
        await sleep(wait);
      }
      const r = await runAttempt(relay, { envelope: { from: tx.from, recipients: pending }, message, baseDir: options.baseDir, env: options.env, adapter: options.adapter, transcript: t, greetingSilenceMs: options.greetingSilenceMs, beforeDot: options.beforeDot, background: options.background });
      last = { relay, r };
      attempts.push({ relay: relay.relay, server, error: r.error ?? r.session?.error?.toJSON() ?? null });
      const delivered = r.error === null; // the final dot got 2xx for this try's accepted recipients
      if (delivered) accepted.push(...(r.session?.accepted ?? []));
      for (const x of r.session?.rejected ?? []) refused.set(x.address, x);
      const temporary = (r.session?.rejected ?? []).filter((x) => replyClass(x.code) === "transient").map((x) => x.address);
      if (delivered) {
        pending = temporary;
        if (pending.length === 0) break relays;
        continue; // retry the 4xx recipients alone
      }
      let error = r.error!;
      if (error.phase === "rcpt" && temporary.length > 0) {
        // Every recipient refused, some only for now: the 4xx ones are retried alone, the 5xx ones are final.
        pending = temporary;
        error = { ...error, code: "TEMPORARY_FAILURE", temporary: true };
        last = { relay, r: { ...r, error } };
      }
      if (!retryable(error, relay)) break;
    }
    // This relay is done with (tries used up, or a failure not worth another try here): the next
    // relay gets the recipients still pending, if the last failure allows failover.
    const next = tx.relays[i + 1];
    const lastError = last?.r.error;
    if (!next || (lastError && !mayFailOver(lastError, relay, next))) break;
    if (now() - started >= next.retry.max_total_ms) {
      t?.note(`not trying ${next.relay}: retry.max_total (${next.retry.max_total_ms / 1000}s) is used up`);
      break;
    }
    t?.note(`trying the next relay of route ${tx.route}: ${next.relay}`);
  }

  for (const a of accepted) refused.delete(a);
  const { relay, r } = last!;
  const rejected = [...refused.values()];
  let error: DeliveryError | undefined;
  if (pending.length > 0 && accepted.length > 0) {
    error = { code: "TEMPORARY_FAILURE", phase: "rcpt", temporary: true, message: `${pending.length} recipient${pending.length === 1 ? " was" : "s were"} refused temporarily on every try: ${pending.join(", ")}.`, hint: "the accepted recipients have the message; send again later to the others only" };
  } else if (r.error) {
    error = r.error;
  } else if (rejected.length > 0) {
    error = r.session?.error?.toJSON();
  }
  return {
    ok: !error,
    route: tx.route,
    relay: relay.relay,
    server: { host: relay.host, port: relay.port, strategy: relay.strategy },
    tls: r.tls,
    accepted,
    rejected,
    response: r.session?.response ?? null,
    messageId: message.messageId,
    ...(error ? { error } : {}),
    attempts,
  };
}
