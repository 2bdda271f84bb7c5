/**
 * Human rendering of plans: a reviewer reads these in a pull request. Every value that came
 * from the config or the command line (names, hosts, users, paths, patterns, addresses) goes
 * through escapeText, so no control character or bidi override reaches the terminal.
 */
import type { ConfigPlan, EnvelopePlan, RelayPlan } from "../plan/types.ts";
import { worstCase } from "../engine/budget.ts";
import { escapeText as e } from "../text/escape.ts";

/** Lays out rows as aligned columns. */
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n");
}

/** One relay's security in a few words: "TLS required ≥1.2, verify, ca ./ca.pem, pin×1". */
export function describeSecurity(r: RelayPlan): string {
  const s = r.security;
  if (r.strategy === "plain" || s.tls === "none") return "no TLS (clear)";
  const parts = [`TLS ${r.strategy === "implicit" ? "required" : s.tls} ≥${s.min_tls}`];
  parts.push(s.verify ? (s.ca ? `verify with ca ${e(s.ca)}` : "verify (system CAs)") : "no verify");
  if (s.pin.length) parts.push(`pin×${s.pin.length}`);
  if (s.server_name) parts.push(`name ${e(s.server_name)}`);
  if (s.client_cert) parts.push("client cert");
  return parts.join(", ");
}

function describeAuth(r: RelayPlan): string {
  if (!r.auth) return "none";
  const p = r.auth.password;
  const where = "env" in p ? `env ${e(p.env)}` : "file" in p ? `file ${e(p.file)}` : "literal in config";
  // The compiled decision (security.plaintext_auth), so a reviewer sees when a password may cross in clear.
  const clear = r.security.plaintext_auth ? (r.strategy === "plain" || r.security.tls === "none" ? ", in clear" : ", in clear if no TLS") : "";
  return `${r.auth.mechanism} as ${e(r.auth.user)} (${where}${clear})`;
}

function relayRow(r: RelayPlan): string[] {
  return [e(r.relay), `${e(r.host)}:${r.port}`, `${r.strategy}${r.strategy_from === "port" ? " (from port)" : ""}`, describeSecurity(r), describeAuth(r)];
}

const header = ["RELAY", "SERVER", "STRATEGY", "SECURITY", "AUTH"];

/** "; gives up within 187s (3 tries) if the server stalls; retry.max_total 300s bounds the send" */
function worstLine(r: RelayPlan): string {
  const w = worstCase(r);
  return `; a server that stalls holds the send at most ${w.ms / 1000}s (${w.tries} tr${w.tries === 1 ? "y" : "ies"}); retry.max_total ${r.retry.max_total_ms / 1000}s bounds the whole send, failover included`;
}

/** All routes and relays of a config; `file` names the config and how it was chosen ("mail.yaml (from --config)"). */
export function renderConfigPlan(plan: ConfigPlan, file: string): string {
  const lines = [`Plan for ${e(file)}`, "", "Routes (first match wins):"];
  plan.routes.forEach((r, i) => {
    const match = !r.match.from && !r.match.to
      ? "all mail"
      : [r.match.from && `from ${r.match.from.map(e).join(" | ")}`, r.match.to && `to ${r.match.to.map(e).join(" | ")}`].filter(Boolean).join(", ");
    lines.push(`  ${i + 1}. ${e(r.name)}: ${match}`, `     via ${r.via.map(e).join(" → ")}`);
  });
  lines.push("", "Relays:", table([header, ...Object.values(plan.relays).map(relayRow)]));
  const t = Object.values(plan.relays).map((r) => `  ${e(r.relay)}: connect ${r.timeouts.connect_ms / 1000}s, greeting ${r.timeouts.greeting_ms / 1000}s, tls ${r.timeouts.tls_ms / 1000}s, command ${r.timeouts.command_ms / 1000}s, data ${r.timeouts.data_ms / 1000}s, final dot ${r.timeouts.dot_ms / 1000}s; ${r.retry.attempts} attempt${r.retry.attempts === 1 ? "" : "s"}, backoff ${r.retry.backoff_ms / 1000}s up to ${r.retry.max_backoff_ms / 1000}s${worstLine(r)}`);
  lines.push("", "Timeouts and retries:", ...t);
  return lines.join("\n") + "\n";
}

/** The transactions one envelope turns into; `file`, when given, heads it ("Plan for mail.yaml (from --config)"). */
export function renderEnvelopePlan(plan: EnvelopePlan, file?: string): string {
  const lines = [...(file === undefined ? [] : [`Plan for ${e(file)}`, ""]), `Envelope: from ${e(plan.envelope.from) || "<>"} to ${plan.envelope.to.map(e).join(", ")}`];
  plan.transactions.forEach((t, i) => {
    lines.push("", `Transaction ${i + 1} of ${plan.transactions.length}: route ${e(t.route)}, ${t.recipients.length} recipient${t.recipients.length === 1 ? "" : "s"}: ${t.recipients.map(e).join(", ")}`);
    lines.push(table([["TRY", ...header], ...t.relays.map((r, j) => [String(j + 1), ...relayRow(r)])]));
  });
  return lines.join("\n") + "\n";
}
