/**
 * Human output of `probe`: per port the facts, then the problems (each with its fix), the notes,
 * and the suggested relay. Everything that came from the server (greeting, EHLO lines,
 * certificate names) is printed with control characters escaped.
 *
 * ```ts
 * io.out(renderProbe(report));
 * ```
 * @module
 */
import { escapeText } from "../text/escape.ts";
import type { Finding, PortReport, ProbeReport, ServiceFacts, TlsReport } from "./types.ts";

const yes = (b: boolean | null) => (b === null ? "not tested" : b ? "yes" : "no");

function size(n: number | null): string {
  if (n === null) return "no SIZE";
  if (n === 0) return "SIZE (no limit given)";
  return n >= 1_048_576 ? `SIZE ${(n / 1_048_576).toFixed(n % 1_048_576 ? 1 : 0)} MiB` : `SIZE ${n} bytes`;
}

function service(s: ServiceFacts): string {
  const flag = (on: boolean, name: string) => (on ? name : `no ${name}`);
  return [
    s.auth.length ? `AUTH ${s.auth.join(" ")}` : "no AUTH",
    size(s.size),
    flag(s.pipelining, "PIPELINING"),
    flag(s.chunking, "CHUNKING"),
    flag(s.eightBitMime, "8BITMIME"),
    flag(s.smtpUtf8, "SMTPUTF8"),
    flag(s.dsn, "DSN"),
    flag(s.requireTls, "REQUIRETLS"),
  ].join(", ");
}

function modeLine(p: PortReport): string {
  switch (p.mode) {
    case "closed":
      return "not reachable";
    case "silent":
      return "connects, but neither SMTP nor TLS answers";
    case "implicit":
      return "implicit TLS (TLS from the first byte)";
    case "plaintext":
      return `plaintext SMTP, ${p.starttls?.offered ? "STARTTLS offered" : "no STARTTLS"}`;
  }
}

function tlsLines(t: TlsReport, row: (k: string, v: string) => void): void {
  row("TLS", `${t.version ?? "version unknown"} ${t.cipher ?? ""}`.trim() + `; TLS 1.3: ${yes(t.accepts["TLSv1.3"])}, TLS 1.2: ${yes(t.accepts["TLSv1.2"])}`);
  t.chain.forEach((c, i) => {
    row(i === 0 ? "certificate" : `chain [${i + 1}]`, `${c.subject}${c.subjectAltNames.length ? `  (${c.subjectAltNames.join(", ")})` : ""}`);
    row("", `issued by ${c.issuer}${c.selfSigned ? " (self-signed)" : ""}; valid ${c.validFrom.slice(0, 10)} to ${c.validTo.slice(0, 10)} (${c.daysLeft < 0 ? `expired ${-c.daysLeft} days ago` : `${c.daysLeft} days left`})`);
  });
  const trust = [`system store: ${t.trust.system.trusted ? "yes" : `no (${t.trust.system.reason})`}`];
  if (t.trust.ca) trust.push(`${t.trust.ca.file}: ${t.trust.ca.trusted ? "yes" : `no (${t.trust.ca.reason})`}`);
  row("trusted by", trust.join("; "));
  row("name", `${t.name.checked}: ${t.name.matches ? "covered" : "NOT covered"}`);
  if (t.pin) row("pin", t.pin);
}

function port(p: PortReport): string[] {
  const lines = [`Port ${p.port}: ${modeLine(p)}${p.detail ? ` (${p.detail})` : ""}`];
  const row = (k: string, v: string) => lines.push(`  ${k.padEnd(13)} ${escapeText(v)}`);
  if (p.greeting) row("greeting", `${p.greeting.code} ${p.greeting.text.split("\n").join(" / ")}`);
  if (p.ehlo.beforeTls) row("EHLO", p.ehlo.beforeTls.join(", ") || "(no extensions)");
  if (p.ehlo.afterTls) row(p.mode === "plaintext" ? "EHLO over TLS" : "EHLO", p.ehlo.afterTls.join(", ") || "(no extensions)");
  if (p.ehlo.beforeTls && p.ehlo.afterTls && (p.ehlo.addedByTls.length || p.ehlo.removedByTls.length)) {
    const authAfterOnly = p.ehlo.addedByTls.some((l) => /^AUTH\b/.test(l));
    const authBeforeOnly = p.ehlo.removedByTls.some((l) => /^AUTH\b/.test(l));
    const parts = [];
    if (p.ehlo.addedByTls.length) parts.push(`TLS adds ${p.ehlo.addedByTls.join(", ")}${authAfterOnly ? " (good: AUTH only after TLS)" : ""}`);
    if (p.ehlo.removedByTls.length) parts.push(`TLS removes ${p.ehlo.removedByTls.join(", ")}${authBeforeOnly ? " (suspicious: AUTH only before TLS)" : ""}`);
    row("", parts.join("; "));
  }
  if (p.tls) tlsLines(p.tls, row);
  if (p.service) row("service", service(p.service));
  if (p.error && p.mode !== "closed") row("stopped at", `${p.error.code}: ${p.error.message}`);
  return lines;
}

function finding(f: Finding): string[] {
  const where = f.port === null || new RegExp(`\\b${f.port}\\b`).test(f.message) ? "" : `port ${f.port}: `;
  const label = f.severity === "error" ? "ERROR" : f.severity === "warning" ? "WARNING" : "note";
  const out = [`  ${label.padEnd(7)} ${escapeText(where + f.message)}`];
  if (f.fix) out.push(`          fix: ${escapeText(f.fix)}`);
  return out;
}

/** The report for a person. */
export function renderProbe(r: ProbeReport): string {
  const L: string[] = [];
  const head = [`name checked against the certificate: ${r.name}`];
  if (r.ca) head.push(`extra CA: ${r.ca}`);
  L.push(`probe ${r.host.includes(":") ? `[${r.host}]` : r.host} (${head.join("; ")})`);
  if (r.relay) {
    const x = r.relay;
    L.push(`relay ${x.name} from ${x.file}: ${x.host}:${x.port}, strategy ${x.strategy ?? "(none)"}, tls ${x.tls} ≥${x.min_tls}, ${x.verify ? "verify" : "no verify"}${x.ca ? `, ca ${x.ca}` : ""}${x.pin.length ? `, pin×${x.pin.length}` : ""}${x.server_name ? `, server_name ${x.server_name}` : ""}`);
  }
  for (const p of r.ports) L.push("", ...port(p));
  if (r.problems.length) {
    L.push("", `Problems (${r.problems.length}):`);
    for (const f of r.problems) L.push(...finding(f));
  }
  if (r.notes.length) {
    L.push("", "Notes:");
    for (const f of r.notes) L.push(...finding(f));
  }
  if (r.suggestion) {
    L.push("", `Suggested relay (port ${r.suggestion.port}, ${r.suggestion.strategy}); paste it into your config:`, "", ...r.suggestion.yaml.trimEnd().split("\n").map(escapeText));
  }
  const reachable = r.ports.some((p) => p.mode !== "closed");
  L.push(
    "",
    !reachable
      ? "Nothing reachable."
      : r.ok
      ? "No problem found."
      : `${r.problems.length} problem${r.problems.length === 1 ? "" : "s"} found.`,
  );
  return L.join("\n") + "\n";
}
