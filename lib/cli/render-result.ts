/** Human output of `send`: what happened, in a few lines; server text is escaped before printing. */
import type { TransactionResult } from "../engine/types.ts";
import { safeText } from "./io.ts";
import type { SendResult } from "./send-run.ts";

function one(r: TransactionResult): string[] {
  const where = `${r.relay} (${r.server.host}:${r.server.port}, ${r.server.strategy})`;
  const tls = r.tls ? `${r.tls.version ?? "TLS (version not visible with this adapter)"}${r.tls.cipher ? ` ${r.tls.cipher}` : ""}` : "no TLS";
  const lines: string[] = [];
  if (r.ok) lines.push(`sent via route ${r.route}, relay ${where}, ${tls}`);
  else if (r.error?.code === "RECIPIENTS_REJECTED") lines.push(`sent to some recipients only via route ${r.route}, relay ${where}, ${tls}`);
  else lines.push(`NOT SENT via route ${r.route}: ${r.error?.code} (phase ${r.error?.phase}) at relay ${where}`);
  if (r.accepted.length) lines.push(`  accepted: ${r.accepted.join(", ")}`);
  for (const x of r.rejected) lines.push(`  rejected: ${x.address} (${x.code} ${safeText(x.text)})`);
  if (r.response) lines.push(`  server: ${r.response.code} ${safeText(r.response.text)}`);
  if (r.error) {
    lines.push(`  ${safeText(r.error.message)}`);
    if (r.error.hint) lines.push(`  hint: ${safeText(r.error.hint)}`);
  }
  const failed = r.attempts.filter((a) => a.error && a.relay !== r.relay);
  for (const a of failed) lines.push(`  tried first: ${a.relay} (${a.server.host}:${a.server.port}): ${a.error!.code}: ${safeText(a.error!.message)}`);
  return lines;
}

/** Renders a send result for a person. */
export function renderSendResult(result: SendResult): string {
  const parts = (result.transactions ?? [result]).flatMap(one);
  if (result.messageId) parts.push(`message-id: ${safeText(result.messageId)}`);
  return parts.map(safeText).join("\n") + "\n";
}
