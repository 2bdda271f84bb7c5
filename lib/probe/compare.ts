/**
 * The relay as configured against what its server does: every contradiction becomes a finding
 * that names the relay, the error `send` would end with, and the change to make.
 *
 * ```ts
 * compareRelay(relay, portReport, [587]);
 * // [{ code: "TLS_MODE_MISMATCH", severity: "error", port: 587, message: "Port 587 speaks plaintext SMTP and offers STARTTLS, but relay `gmail` says strategy: implicit. That is the 'wrong version number' error.", fix: "Use strategy: starttls, or port 465." }]
 * ```
 * @module
 */
import { isLoopback } from "../config/host.ts";
import type { ConfiguredRelay, Finding, PortReport } from "./types.ts";

/** Contradictions between `relay` and the report of the port it uses (null: that port was not probed). */
export function compareRelay(relay: ConfiguredRelay, r: PortReport | null, probedPorts: number[]): Finding[] {
  const out: Finding[] = [];
  const name = `relay \`${relay.name}\``;
  if (!r) {
    out.push({ code: "PORT_DIFFERS", severity: "info", port: null, message: `${name} uses port ${relay.port}, but port${probedPorts.length === 1 ? "" : "s"} ${probedPorts.join(", ")} ${probedPorts.length === 1 ? "was" : "were"} probed, so the relay was not compared.`, fix: `Probe without a port to check port ${relay.port}.` });
    return out;
  }
  const port = r.port;
  const add = (code: Finding["code"], severity: Finding["severity"], message: string, fix: string) => out.push({ code, severity, port, message, fix });
  const s = relay.strategy;
  const offers = r.starttls?.offered === true;

  if (s === "implicit" && r.mode === "plaintext") {
    add(
      "TLS_MODE_MISMATCH",
      "error",
      offers
        ? `Port ${port} speaks plaintext SMTP and offers STARTTLS, but ${name} says strategy: implicit. That is the 'wrong version number' error.`
        : `Port ${port} speaks plaintext SMTP without STARTTLS, but ${name} says strategy: implicit. That is the 'wrong version number' error.`,
      offers
        ? `Use strategy: starttls${port === 465 ? "" : ", or port 465"}.`
        : "This port has no TLS at all: use the server's implicit-TLS port (usually 465), or enable STARTTLS on the server.",
    );
  } else if ((s === "starttls" || s === "plain") && r.mode === "implicit") {
    add(
      "TLS_MODE_MISMATCH",
      "error",
      `Port ${port} expects TLS from the first byte, but ${name} says strategy: ${s}. The connection would wait for a greeting that never comes, until the greeting timeout.`,
      `Use strategy: implicit${port === 587 ? "" : ", or port 587"}.`,
    );
  } else if (s === "starttls" && r.mode === "plaintext" && r.starttls && !offers) {
    if (relay.tls === "required") {
      add("STARTTLS_UNAVAILABLE", "error", `Port ${port} does not offer STARTTLS, but ${name} requires TLS (security.tls: required): sending fails with STARTTLS_UNAVAILABLE.`, "Use the server's implicit-TLS port (usually 465) or enable STARTTLS on the server; security.tls: none would send in clear.");
    } else if (relay.tls === "opportunistic") {
      add("CLEAR_TEXT", "warning", `Port ${port} does not offer STARTTLS, so ${name} (security.tls: opportunistic) sends in clear.`, "Use the server's implicit-TLS port (usually 465), or enable STARTTLS on the server.");
    }
  }
  if ((s === "plain" || relay.tls === "none") && r.mode === "plaintext" && offers) {
    add("CLEAR_TEXT", "warning", `Port ${port} offers STARTTLS, but ${name} never uses TLS (${s === "plain" ? "strategy: plain" : "security.tls: none"}), so mail crosses the network in clear.`, "Use strategy: starttls with security.tls: required.");
  }

  const tls = r.tls;
  if (tls && relay.min_tls === "1.3" && tls.accepts["TLSv1.3"] === false) {
    add("TLS_VERSION_TOO_LOW", "error", `${cap(name)} says min_tls: "1.3", but port ${port} accepts TLS 1.2 only: sending fails with TLS_VERSION_TOO_LOW.`, 'Set security.min_tls: "1.2", or enable TLS 1.3 on the server.');
  }
  if (tls?.pin && relay.pin.length && !relay.pin.includes(tls.pin)) {
    add(
      "CERT_PIN_MISMATCH",
      "error",
      `The server's key on port ${port} is ${tls.pin}, but ${name} pins ${relay.pin.join(", ")}: sending fails with CERT_PIN_MISMATCH.`,
      `If the server's key was changed on purpose, set security.pin: ${tls.pin} (or list both while rotating); if not, do not send: someone may be intercepting.`,
    );
  }
  if (tls && !relay.verify && relay.pin.length === 0) {
    add("VERIFY_OFF", isLoopback(relay.host) ? "info" : "warning", `${cap(name)} has verify: false without a pin: it accepts any certificate, so anyone on the path can read the mail.`, `Add security.pin: ${tls.pin ?? "sha256/…"} (the server's key today) or a ca, and keep verify: true.`);
  }
  if (relay.auth && r.service && (tls || relay.strategy === "plain")) {
    const offered = r.service.auth;
    const want = relay.auth.mechanism.toUpperCase();
    if (offered.length === 0) {
      add("AUTH_UNAVAILABLE", "error", `${cap(name)} logs in as ${relay.auth.user}, but port ${port} offers no AUTH${tls ? " after TLS" : ""}: sending fails with AUTH_UNAVAILABLE.`, "Remove auth: if the server takes mail without it, or use the server's submission port (465 or 587), where AUTH is offered.");
    } else if (want !== "AUTO" && !offered.includes(want)) {
      add("AUTH_UNAVAILABLE", "error", `${cap(name)} uses auth mechanism ${relay.auth.mechanism}, but port ${port} offers only ${offered.join(" ")}: sending fails with AUTH_UNAVAILABLE.`, `Use mechanism: auto (or one of ${offered.map((m) => m.toLowerCase()).join(", ")}).`);
    }
  }
  return out;
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
