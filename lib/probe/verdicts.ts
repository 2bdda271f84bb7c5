/**
 * Port verdicts: the facts of one port → findings, each one or two plain sentences that say what
 * is wrong and a fix that says what to do. Relay contradictions are in compare.ts.
 *
 * ```ts
 * portFindings(await probePort(host, 465, options), { caFile: null, relay: null, onlyPort: true, otherPortWorks: false });
 * // [{ code: "CERT_SELF_SIGNED", severity: "error", port: 465, message: "…", fix: "…" }]
 * ```
 * @module
 */
import type { PortProbe } from "./port.ts";
import type { ConfiguredRelay, Finding } from "./types.ts";

/** What the verdicts depend on besides the port's facts. */
export interface VerdictContext {
  /** The CA file the chain was judged against (relay's or --ca), as shown to the user. */
  caFile: string | null;
  relay: ConfiguredRelay | null;
  /** This port is the only one that matters (given explicitly, or the relay's). */
  onlyPort: boolean;
  /** Another probed port works: a closed port here is only a note. */
  otherPortWorks: boolean;
}

const SOON_DAYS = 14;

const day = (iso: string) => iso.slice(0, 10);

/** Findings of one port. */
export function portFindings(p: PortProbe, ctx: VerdictContext): Finding[] {
  const r = p.report;
  const port = r.port;
  const out: Finding[] = [];
  const add = (code: Finding["code"], severity: Finding["severity"], message: string, fix: string | null) =>
    out.push({ code, severity, port, message, fix });
  const relay = ctx.relay;
  const named = relay ? `relay \`${relay.name}\`` : "";

  if (r.mode === "closed") {
    add(
      "CONNECT_FAILED",
      ctx.onlyPort || !ctx.otherPortWorks ? "error" : "info",
      r.error?.message ?? `Could not connect to port ${port}.`,
      "Check the host and port and that no firewall blocks the connection; submission servers usually listen on 465 (implicit TLS) and 587 (STARTTLS).",
    );
    return out;
  }
  if (r.mode === "silent") {
    add(
      "SILENT_PORT",
      "error",
      `Port ${port} accepted the connection but ${r.detail}.`,
      "Nothing there speaks SMTP as seen from here (a firewall or proxy may hold the connection); check the port number.",
    );
    return out;
  }
  const err = r.error;
  if (err?.code === "GREETING_REFUSED") {
    add("GREETING_REFUSED", "error", `Port ${port} greeted with ${r.greeting?.code} instead of 220: the server refuses mail from this address now.`, "Read the greeting text for the reason; send from an allowed network or ask the server's operator.");
  } else if (err?.code === "EHLO_REFUSED") {
    add("EHLO_REFUSED", "error", err.message, "Set helo: to this machine's real host name (some servers check it), or ask the server's operator.");
  } else if (err?.code === "STARTTLS_REFUSED") {
    add("STARTTLS_REFUSED", "error", `Port ${port} offers STARTTLS but refused it: ${err.message}`, "The server's TLS setup is broken (certificate or key missing); ask its operator, or use its implicit-TLS port (465).");
  } else if (err?.code === "STARTTLS_INJECTION") {
    add("STARTTLS_INJECTION", "error", `${err.message} Something on the path tampers with the connection.`, "Do not send through this path; contact the network or server operator.");
  } else if (err?.code === "TLS_VERSION_TOO_LOW") {
    add("TLS_VERSION_TOO_LOW", "error", `Port ${port} refuses TLS 1.2 and TLS 1.3: it offers only older, broken TLS versions.`, "Upgrade the server's TLS configuration to allow TLS 1.2 or 1.3; mailplan never uses TLS below 1.2.");
  } else if (err?.code === "TLS_HANDSHAKE_FAILED" && r.offer) {
    const list = r.offer.suites.map((c) => `${c.version} ${c.name}${c.weak.length ? ` (${c.weak.join(", ")})` : ""}`);
    add(
      "TLS_HANDSHAKE_FAILED",
      "error",
      list.length
        ? `Port ${port} offers no cipher in common with mailplan: it offers only ${list.join("; ")}.`
        : `Port ${port} offers no cipher in common with mailplan, and none of the older suites either (it refused every TLS 1.0–1.2 suite offered to describe it).`,
      "The fix is on the server: enable TLS 1.2 or 1.3 with ECDHE key exchange and AES-GCM or ChaCha20 (e.g. ECDHE-RSA-AES128-GCM-SHA256); suites without forward secrecy, CBC with SHA-1, 3DES and RC4 are weak even where a client still accepts them.",
    );
  } else if (err?.code === "TLS_HANDSHAKE_FAILED") {
    add("TLS_HANDSHAKE_FAILED", "error", `On port ${port}: ${err.message}`, "Check the server's TLS configuration (certificate, key, protocol versions, ciphers), or whether it wants a client certificate (security.client_cert).");
  } else if (err) {
    const code = err.code === "TIMEOUT" ? "TIMEOUT" : err.code === "CONNECT_FAILED" ? "CONNECT_FAILED" : "PROTOCOL_ERROR";
    add(code, "error", `On port ${port}: ${err.message}`, r.mode === "implicit" && !r.greeting
      ? "The TLS side answers but the SMTP server behind it does not; check the server (or the TLS proxy in front of it)."
      : "Check that this port really runs an SMTP server; retry with a longer --timeout if the link is slow.");
  }

  if (r.mode === "plaintext" && r.starttls && !r.starttls.offered) {
    const clearOnPurpose = relay && (relay.strategy === "plain" || relay.tls === "none");
    const auth = r.service?.authBeforeTls.length ? ` It even offers AUTH (${r.service.authBeforeTls.join(" ")}) in clear.` : "";
    add(
      "NO_TLS",
      clearOnPurpose ? "info" : "error",
      `Port ${port} speaks plaintext SMTP and does not offer STARTTLS, so mail (and any password) would cross the network in clear.${auth}`,
      "Enable STARTTLS on the server, or use its implicit-TLS port (usually 465). To send in clear anyway on a trusted network, use strategy: plain with security.tls: none.",
    );
  }

  const tls = r.tls;
  if (tls) {
    const pinned = !!relay && !relay.verify && relay.pin.length > 0 && !!tls.pin && relay.pin.includes(tls.pin);
    const trustSeverity: Finding["severity"] = pinned || (relay && !relay.verify) ? "info" : "error";
    const leaf = tls.chain[0];
    const stale = p.analysis?.outOfDate;
    if (stale) {
      const future = Date.parse(stale.validFrom) > Date.now();
      add(
        "CERT_EXPIRED",
        pinned ? "warning" : "error",
        future
          ? `The certificate ${stale.subject} on port ${port} is not valid before ${day(stale.validFrom)}: verifying clients refuse it (CERT_EXPIRED).`
          : `The certificate ${stale.subject} on port ${port} expired on ${day(stale.validTo)} (${-stale.daysLeft} days ago): verifying clients refuse it (CERT_EXPIRED).`,
        future ? "Check this machine's clock and the server's; then the certificate's dates." : "Renew the certificate on the server and reload it; if it looks valid there, check this machine's clock.",
      );
    } else if (leaf && leaf.daysLeft < SOON_DAYS) {
      add("CERT_EXPIRES_SOON", "warning", `The certificate ${leaf.subject} on port ${port} expires in ${leaf.daysLeft} day${leaf.daysLeft === 1 ? "" : "s"} (${day(leaf.validTo)}).`, "Renew it now; if renewal is automatic, it is failing.");
    }
    if (leaf && tls.chainProblem === "self-signed") {
      add(
        "CERT_SELF_SIGNED",
        trustSeverity,
        `Port ${port} presents a self-signed certificate (${leaf.subject}) that no trusted CA vouches for: verifying clients refuse it (CERT_UNTRUSTED).`,
        `Pin its key instead: security.pin: ${tls.pin} with verify: false (the suggested relay does), or give the server a CA-issued certificate.`,
      );
    } else if (leaf && tls.chainProblem === "missing-intermediate") {
      add(
        "CERT_MISSING_INTERMEDIATE",
        trustSeverity,
        `Port ${port} sends only its own certificate (${leaf.subject}), without the intermediate certificate of its issuer "${leaf.issuer}": a missing intermediate. Clients that do not already hold that intermediate cannot verify the chain (CERT_UNTRUSTED).`,
        `Fix the server: configure the full chain (its certificate followed by the intermediate). Until then, add the intermediate to security.ca; if "${leaf.issuer}" is your own root CA, put that in security.ca instead.`,
      );
    } else if (leaf && tls.chainProblem === "untrusted") {
      const top = tls.chain[tls.chain.length - 1].issuer;
      if (tls.trust.ca) {
        add(
          "CERT_UNTRUSTED",
          trustSeverity,
          `The certificate of port ${port} does not chain to the CA in ${relay?.ca ? `${named}'s security.ca (${relay.ca})` : tls.trust.ca.file}: ${tls.trust.ca.reason}. Sending fails with CERT_UNTRUSTED.`,
          `Point security.ca at the CA that issued the server's chain (top issuer: "${top}").`,
        );
      } else if (tls.chain.length === 1) {
        add(
          "CERT_UNTRUSTED",
          trustSeverity,
          `The certificate of port ${port} (issuer "${leaf.issuer}") is not trusted by the system store: either "${leaf.issuer}" is a private CA (give it with --ca / security.ca) or the server leaves out a missing intermediate certificate. Sending fails with CERT_UNTRUSTED.`,
          `If "${leaf.issuer}" is your private CA, probe again with --ca FILE and set security.ca: FILE; otherwise the server must send its full chain (its certificate followed by the intermediate).`,
        );
      } else {
        add(
          "CERT_UNTRUSTED",
          trustSeverity,
          `The certificate of port ${port} (issuer "${leaf.issuer}") does not chain to a CA in the system trust store. Sending fails with CERT_UNTRUSTED.`,
          `If "${top}" is a private CA, add it with security.ca (probe again with --ca FILE to check); otherwise the server's chain is wrong.`,
        );
      }
    } else if (leaf && tls.trust.ca?.trusted && !tls.trust.system.trusted && !stale) {
      out.push({ code: "CERT_SYSTEM_UNTRUSTED", severity: "info", port, message: `The certificate of port ${port} is trusted through ${tls.trust.ca.file} only, not by the system trust store.`, fix: "Keep security.ca in the relay (the suggested relay has it)." });
    }
    if (leaf && !tls.name.matches) {
      const dns = leaf.subjectAltNames.filter((s) => /^DNS:[A-Za-z0-9*]/i.test(s)).map((s) => s.slice(4)); // quoted (hostile) names are never suggested
      add(
        "CERT_HOSTNAME_MISMATCH",
        trustSeverity,
        `The certificate of port ${port} does not cover "${tls.name.checked}" (it covers ${leaf.subjectAltNames.join(", ") || "no names at all"}). Sending fails with CERT_HOSTNAME_MISMATCH.`,
        dns.length
          ? `Connect with a name it covers (host: ${dns[0]}), or set security.server_name: ${dns[0]} if that is really this server.`
          : "Give the server a certificate that covers the name you connect with.",
      );
    }
    if (tls.accepts["TLSv1.3"] === false && tls.accepts["TLSv1.2"] === true) {
      out.push({ code: "TLS13_UNAVAILABLE", severity: "info", port, message: `Port ${port} accepts TLS 1.2 but not TLS 1.3.`, fix: 'Fine with min_tls: "1.2" (the default); TLS 1.3 is faster and safer, so ask the operator to enable it.' });
    }
  }

  const s = r.service;
  if (r.mode === "plaintext" && r.starttls?.accepted && s && r.ehlo.afterTls) {
    if (s.authBeforeTls.length && !s.auth.length) {
      add("AUTH_ONLY_BEFORE_TLS", "warning", `Port ${port} offers AUTH before STARTTLS but not after it, the reverse of what a sound server does: a client that logs in would do so in clear.`, "Ask the server's operator to offer AUTH after STARTTLS only (Postfix: smtpd_tls_auth_only = yes); mailplan never authenticates in clear.");
    } else if (s.authBeforeTls.length) {
      out.push({ code: "AUTH_BEFORE_TLS", severity: "info", port, message: `Port ${port} offers AUTH before STARTTLS too; mailplan logs in only after TLS.`, fix: "Operators should offer AUTH after TLS only (Postfix: smtpd_tls_auth_only = yes)." });
    }
  }
  return out;
}
