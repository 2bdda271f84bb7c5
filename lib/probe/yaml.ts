/**
 * The suggested relay block: what was found, written as config (a `relays:` mapping with one
 * relay, ready to paste), with a comment on each line that is there because of a finding. It is
 * valid for `check`; where the server is sound it sends as is.
 *
 * ```ts
 * suggestRelay({ host: "127.0.0.1", name: "127-0-0-1", port: portReport, caValue: "./ca.pem", anchoredInCa: true, relay: null })?.yaml
 * // relays:\n  127-0-0-1:\n    host: 127.0.0.1\n    port: 587\n    strategy: starttls\n …
 * ```
 * @module
 */
import { isLoopback } from "../config/host.ts";
import { portMismatch } from "../config/rules.ts";
import type { ConfiguredRelay, PortReport, Suggestion } from "./types.ts";

/** What the block is built from. */
export interface SuggestInput {
  host: string;
  /** Relay name to use. */
  name: string;
  port: PortReport;
  /** The `ca:` value to write when the chain verified against it (relative to the config, or absolute). */
  caValue: string | null;
  /** The chain leads to that ca (dates aside). */
  anchoredInCa: boolean;
  relay: ConfiguredRelay | null;
}

const PLAIN = /^[A-Za-z0-9_.\/][A-Za-z0-9_.\/+=@-]*$/;
const RESERVED = /^(?:true|false|yes|no|on|off|null|~|[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|\.inf|\.nan)$/i;

/** A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML). */
export function scalar(s: string): string {
  return PLAIN.test(s) && !RESERVED.test(s) ? s : JSON.stringify(s);
}

/** A relay name from a host: letters, digits, - and _. */
export function relayNameFor(host: string): string {
  const n = host.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[^a-z0-9]+|-+$/g, "");
  return n || "relay";
}

/** The relay block for the port, or null when no configuration can work there. */
export function suggestRelay(i: SuggestInput): Suggestion | null {
  const r = i.port;
  if (r.mode === "closed" || r.mode === "silent" || r.error) return null; // nothing would work there
  const tls = r.tls;
  const strategy = r.mode === "implicit" ? "implicit" : r.starttls?.offered ? "starttls" : "plain";
  if (strategy !== "plain" && !tls) return null;

  const L: string[] = ["relays:", `  ${i.name}:`, `    host: ${scalar(i.host)}`, `    port: ${r.port}`, `    strategy: ${strategy}`];
  const mismatch = portMismatch(strategy, r.port);
  if (mismatch) L.push(`    strategy_port_mismatch: allow   # port ${r.port} usually means ${strategy === "implicit" ? "STARTTLS" : "implicit TLS"}, but this server does ${strategy === "implicit" ? "implicit TLS" : strategy === "starttls" ? "STARTTLS" : "plaintext"} there`);
  if (i.relay?.helo) L.push(`    helo: ${scalar(i.relay.helo)}`);
  L.push("    security:");
  if (strategy === "plain") {
    L.push("      tls: none   # this port offers no TLS: mail (and any password) crosses the network in clear");
  } else if (tls) {
    L.push("      tls: required");
    if (tls.accepts["TLSv1.2"] === false && tls.accepts["TLSv1.3"] === true) L.push('      min_tls: "1.3"   # the server accepts TLS 1.3 only');
    else if (i.relay?.min_tls === "1.3" && tls.accepts["TLSv1.3"] !== false) L.push('      min_tls: "1.3"');
    const leaf = tls.chain[0];
    const selfSigned = tls.chainProblem === "self-signed";
    if (i.caValue && i.anchoredInCa) L.push(`      ca: ${scalar(i.caValue)}`);
    if (!tls.name.matches && leaf && !selfSigned) {
      const dns = leaf.subjectAltNames.filter((s) => /^DNS:[A-Za-z0-9*]/i.test(s)).map((s) => s.slice(4)); // quoted (hostile) names are never suggested
      if (dns.length) L.push(`      server_name: ${scalar(dns[0])}   # the certificate does not cover ${tls.name.checked}; it covers ${dns.join(", ")}: make sure this is the server you mean`);
    } else if (i.relay?.server_name && tls.name.matches) {
      L.push(`      server_name: ${scalar(i.relay.server_name)}`);
    }
    if (selfSigned && tls.pin) {
      L.push("      verify: false   # self-signed: no CA vouches for it, so trust exactly this key instead");
      L.push(`      pin: ${tls.pin}`);
    } else if (tls.pin) {
      const keep = i.relay?.pin.includes(tls.pin);
      if (keep) L.push(`      pin: ${tls.pin}`);
      else if (i.relay?.pin.length) L.push(`      pin: ${tls.pin}   # was ${i.relay.pin.join(", ")}: use this only if the key change is legitimate`);
      else L.push(`      # pin: ${tls.pin}   # optional: also pin today's key (update it when the server's key changes)`);
    }
    if (tls.chainProblem === "expired") L.push(`      # the certificate expired on ${(leaf?.validTo ?? "").slice(0, 10)}: sending fails with CERT_EXPIRED until the server renews it`);
    if (tls.chainProblem === "not-yet-valid") L.push("      # the certificate is not valid yet: sending fails with CERT_EXPIRED until its start date (check the clocks)");
    if (tls.chainProblem === "missing-intermediate") L.push("      # the server leaves out its intermediate certificate: add it to a ca: file until the server is fixed");
    if (tls.chainProblem === "untrusted" && !i.caValue) L.push(`      # ca: ./ca.pem   # the CA that issued "${tls.chain[tls.chain.length - 1]?.issuer}" (not in the system trust store${tls.chain.length === 1 ? "; or the server leaves out its intermediate" : ""})`);
    if (tls.chainProblem === "untrusted" && i.caValue) L.push(`      # ca: ./ca.pem   # ${i.caValue} does not vouch for this server: point ca at the CA that issued "${tls.chain[tls.chain.length - 1]?.issuer}"`);
  }
  const offered = r.service?.auth ?? [];
  const a = i.relay?.auth;
  const clear = strategy === "plain" && !isLoopback(i.host);
  if (a && a.password && !clear) {
    const pw = "env" in a.password ? `{ env: ${a.password.env} }` : `{ file: ${scalar(a.password.file)} }`;
    L.push("    auth:");
    if (a.mechanism !== "auto") L.push(`      mechanism: ${a.mechanism}`);
    L.push(`      user: ${scalar(a.user)}`, `      password: ${pw}`);
  } else if (offered.length) {
    L.push(`    # auth: { user: you@example.com, password: { env: SMTP_PASSWORD } }   # the server offers AUTH ${offered.join(" ")}`);
  }
  return { relay: i.name, port: r.port, strategy, yaml: L.join("\n") + "\n" };
}
