/**
 * Human output of `send`: what happened, in a few lines; server text is escaped before printing.
 * A failure found before any connection (a missing secret, an invalid message) says so instead of
 * naming a session phase: JSON keeps `error.phase: "connect"` (the contract's list has no earlier
 * phase; `connect` is where the attempt stopped), the words do not pretend a connection was made.
 */
import type { AttemptSummary, DeliveryError, TransactionResult } from "../engine/types.ts";
import { safeText } from "./io.ts";
import type { OutboxedResult, SendResult } from "./send-run.ts";

function one(r: TransactionResult): string[] {
  const where = `${r.relay} (${r.server.host}:${r.server.port}, ${r.server.strategy})`;
  const tls = r.tls ? `${r.tls.version ?? "TLS (version not visible with this adapter)"}${r.tls.cipher ? ` ${r.tls.cipher}` : ""}` : "no TLS";
  const lines: string[] = [];
  if (r.ok) lines.push(`sent via route ${r.route}, relay ${where}, ${tls}`);
  else if (r.error?.code === "RECIPIENTS_REJECTED") lines.push(`sent to some recipients only via route ${r.route}, relay ${where}, ${tls}`);
  else lines.push(`NOT SENT via route ${r.route}: ${r.error?.code} (${whereItStopped(r.error)}) at relay ${where}`);
  if (r.accepted.length) lines.push(`  accepted: ${r.accepted.join(", ")}`);
  for (const x of r.rejected) lines.push(`  rejected: ${x.address} (${x.code} ${safeText(x.text)})`);
  if (r.response) lines.push(`  server: ${r.response.code} ${safeText(r.response.text)}`);
  if (r.error) {
    lines.push(`  ${safeText(r.error.message)}`);
    if (r.error.hint) lines.push(`  hint: ${safeText(r.error.hint)}`);
  }
  const q = (r as OutboxedResult).queued;
  if (q) lines.push(q.cutOff ? `  kept in the outbox as ${q.id}, flagged "cut off" (the message may have arrived)` : `  kept in the outbox as ${q.id} (${safeText(q.dir)})`);
  const ob = (r as OutboxedResult).outbox;
  if (ob) lines.push(`  outbox: ${safeText(ob.error)}${!r.ok && !q ? " — NOT queued" : ""}`);
  for (const [a, times] of triedFirst(r)) {
    lines.push(`  tried first: ${a.relay} (${a.server.host}:${a.server.port})${times > 1 ? `, ${times} times` : ""}: ${a.error!.code}: ${safeText(a.error!.message)}`);
  }
  return lines;
}

/** Codes that are found before anything is connected: they have no session phase to name. */
const BEFORE_CONNECTING = new Set(["CONFIG_INVALID", "MESSAGE_INVALID", "NO_ROUTE", "USAGE"]);

/** "phase ehlo", or "found before connecting" for a config or message problem. */
export function whereItStopped(error: DeliveryError | undefined): string {
  if (error && BEFORE_CONNECTING.has(error.code) && error.phase === "connect") return "found before connecting; nothing was sent";
  return `phase ${error?.phase}`;
}

/** Failed attempts on relays other than the last one, identical ones counted once (retries). */
function triedFirst(r: TransactionResult): [AttemptSummary, number][] {
  const groups = new Map<string, [AttemptSummary, number]>();
  for (const a of r.attempts) {
    if (!a.error || a.relay === r.relay) continue;
    const key = JSON.stringify([a.relay, a.error.code, a.error.message]);
    const g = groups.get(key);
    if (g) g[1]++;
    else groups.set(key, [a, 1]);
  }
  return [...groups.values()];
}

/** Renders a send result for a person. */
export function renderSendResult(result: SendResult): string {
  const parts = (result.transactions ?? [result]).flatMap(one);
  if (result.messageId) parts.push(`message-id: ${safeText(result.messageId)}`);
  return parts.map(safeText).join("\n") + "\n";
}
