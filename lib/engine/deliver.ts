/**
 * One transaction over its route's relays, in failover order. A relay is given up for the next
 * on connection, TLS and temporary failures; after a security failure of a `tls: required` relay
 * the next relay is tried only if its own policy is just as strict — never a weaker one.
 * Permanent refusals, authentication failures and "delivery status unknown" stop at once.
 */
import type { AdapterName } from "../net/conn.ts";
import type { RelayPlan, TransactionPlan } from "../plan/types.ts";
import { runAttempt } from "./attempt.ts";
import { SECURITY_CODES } from "./errors.ts";
import type { Transcript } from "./transcript.ts";
import type { AttemptSummary, DeliveryError, MessageSource, TransactionResult } from "./types.ts";

/** What `deliver` needs besides the transaction and the message. */
export interface DeliverOptions {
  /** Folder that relative paths in the plan (ca, client_cert, secret files) are resolved against. */
  baseDir: string;
  /** Socket adapter; default: Bun native under Bun, node:tls under Deno. */
  adapter?: AdapterName;
  transcript?: Transcript;
}

const MIN_TLS_RANK = { "1.2": 2, "1.3": 3 } as const;

/** True when `next` demands at least what `failed` demanded (TLS required, verified or pinned, same minimum version or higher). */
export function atLeastAsStrict(next: RelayPlan, failed: RelayPlan): boolean {
  const n = next.security, f = failed.security;
  const nextRequired = next.strategy === "implicit" || (next.strategy === "starttls" && n.tls === "required");
  const authenticated = n.verify || n.pin.length > 0;
  return nextRequired && authenticated && MIN_TLS_RANK[n.min_tls] >= MIN_TLS_RANK[f.min_tls];
}

function mayFailOver(error: DeliveryError, failed: RelayPlan, next: RelayPlan | undefined): boolean {
  if (!next) return false;
  if (SECURITY_CODES.has(error.code)) {
    const required = failed.strategy === "implicit" || failed.security.tls === "required";
    return !required || atLeastAsStrict(next, failed);
  }
  if (error.code === "CONNECT_FAILED" || error.code === "TIMEOUT" || error.code === "PROTOCOL_ERROR") return error.phase !== "dot";
  return error.temporary && error.code !== "DELIVERY_UNKNOWN";
}

/** Sends one transaction; never throws. */
export async function deliver(tx: TransactionPlan, message: MessageSource, options: DeliverOptions): Promise<TransactionResult> {
  const attempts: AttemptSummary[] = [];
  const envelope = { from: tx.from, recipients: tx.recipients };
  for (let i = 0; i < tx.relays.length; i++) {
    const relay = tx.relays[i];
    const server = { host: relay.host, port: relay.port, strategy: relay.strategy };
    const r = await runAttempt(relay, { envelope, message, baseDir: options.baseDir, adapter: options.adapter, transcript: options.transcript });
    attempts.push({ relay: relay.relay, server, error: r.error });
    const partial = r.error === null ? r.session?.error : undefined;
    const done = r.error === null || !mayFailOver(r.error, relay, tx.relays[i + 1]);
    if (done) {
      const error = r.error ?? (partial ? (partial.toJSON() as unknown as DeliveryError) : undefined);
      return {
        ok: r.error === null && !partial,
        route: tx.route,
        relay: relay.relay,
        server,
        tls: r.tls,
        accepted: r.session?.accepted ?? [],
        rejected: r.session?.rejected ?? [],
        response: r.session?.response ?? null,
        messageId: message.messageId,
        ...(error ? { error } : {}),
        attempts,
      };
    }
    options.transcript?.note(`trying the next relay of route ${tx.route}: ${tx.relays[i + 1].relay}`);
  }
  throw new Error("unreachable: a route has at least one relay");
}
