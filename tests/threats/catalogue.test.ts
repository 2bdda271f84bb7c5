/**
 * The hostile-server catalogue (docs/threats.md: N1–N12, C1–C9, M1–M2, R1–R10) and the contract
 * rules it implies, as ONE table: each row is a server scenario, a relay policy (YAML) and what
 * mailplan must do. Every row runs against every adapter of the current runtime.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import process from "node:process";
import { availableAdapters } from "../../lib/net/detect.ts";
import { MailplanError } from "../../lib/codes.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { makePki } from "../support/certs.ts";
import { assertAllHostileClosed, type HostileServer, startHostile } from "../support/hostile-server.ts";
import { AUTH, makeConfig, PASSWORD, plan, type Row, runRow, send, settle } from "./harness.ts";


const pki = makePki();
const CA = pki.root.cert.path;

// Relay policies (YAML flow fields after `host: 127.0.0.1, port: PORT`).
const TLS_REQUIRED = `strategy: starttls, security: { tls: required, ca: ${CA}, server_name: localhost }`;
const REQUIRED = `${TLS_REQUIRED}, ${AUTH}`;
const IMPLICIT = `strategy: implicit, security: { ca: ${CA}, server_name: localhost }, ${AUTH}`;
const OPPORTUNISTIC = `strategy: starttls, security: { tls: opportunistic, ca: ${CA}, server_name: localhost }`;
const starttlsWith = (security: string, more = AUTH) =>
  `strategy: starttls, security: { tls: required, ca: ${CA}, server_name: localhost, ${security} }, ${more}`;

const te = new TextEncoder();
const b64 = (s: string) => Buffer.from(s).toString("base64");
const lines = (srv: HostileServer) => srv.received.commands.map((c) => `${c.phase}:${c.verb}`);
const noHelo = (srv: HostileServer) =>
  assert.ok(!srv.received.commands.some((c) => c.verb === "HELO"), `HELO fallback: ${lines(srv)}`);
const noPlainRetry = (srv: HostileServer) =>
  assert.ok(
    !srv.received.commands.some((c, i, all) => c.phase === "plain" && all.slice(0, i).some((k) => k.verb === "STARTTLS")),
    `a command was sent in clear after STARTTLS: ${lines(srv)}`,
  );
const delivered = (srv: HostileServer) => assert.equal(srv.received.bodies.length, 1, `one message received: ${lines(srv)}`);

const NEVER_SEEN = `sha256/${b64("x".repeat(32))}`; // a well-formed pin no test key has

const STARTTLS_REPLIES: [string, string, boolean][] = [
  ["354", "354 go ahead", false],
  ["221", "221 bye", false],
  ["421", "421 4.3.2 shutting down", true],
  ["500", "500 5.5.1 unknown", false],
  ["530", "530 5.7.0 must issue something else", false],
];

const MALFORMED: [string, string][] = [
  ["abc", "abc\r\n"],
  ["25", "25\r\n"],
  ["2500", "2500\r\n"],
  ["600 x", "600 x\r\n"],
  ["250-a then 550 b", "250-a\r\n550 b\r\n"],
];

const R9_BODY = "From: s@example.com\r\nTo: r@example.com\r\nSubject: dots\r\n\r\n" +
  "line one\r\n.\r\n..two dots\r\n.lead\nbare LF\n.\nbare CR\r.\rend\r\n\n.\r\nlast";

const rows: Row[] = [
  // ─── STARTTLS negotiation ───
  {
    id: "N1", title: "EHLO 502, HELO 250, no STARTTLS: no HELO fallback in clear",
    server: { starttls: false, rules: [{ on: "EHLO", reply: "502 5.5.2 Error: command not recognized" }] },
    relay: REQUIRED,
    expect: { code: "STARTTLS_UNAVAILABLE", phase: "ehlo", failClosed: true, extra: noHelo },
  },
  {
    id: "N2", title: "AUTH PLAIN LOGIN offered in clear, no STARTTLS",
    server: { starttls: false },
    relay: REQUIRED,
    expect: { code: "STARTTLS_UNAVAILABLE", phase: "ehlo", failClosed: true },
  },
  {
    id: "N3", title: "STARTTLS answered 502",
    server: { rules: [{ on: "STARTTLS", reply: "502 5.5.1 not implemented" }] },
    relay: REQUIRED,
    expect: { code: "STARTTLS_REFUSED", phase: "starttls", temporary: false, failClosed: true },
  },
  {
    id: "N4", title: "STARTTLS answered 454 (contract: temporary)",
    server: { rules: [{ on: "STARTTLS", reply: "454 4.7.0 TLS not available" }] },
    relay: REQUIRED,
    expect: { code: "STARTTLS_REFUSED", phase: "starttls", temporary: true, failClosed: true },
  },
  ...STARTTLS_REPLIES.map(([label, reply, temporary]): Row => ({
    id: `N5/${label}`, title: `STARTTLS answered ${reply}`,
    server: { rules: [{ on: "STARTTLS", reply }] },
    relay: REQUIRED,
    expect: { code: "STARTTLS_REFUSED", phase: "starttls", temporary, failClosed: true },
  })),
  {
    id: "N5/999", title: "STARTTLS answered 999 NOSTARTTLS (not a reply code)",
    server: { rules: [{ on: "STARTTLS", reply: "999 NOSTARTTLS" }] },
    relay: REQUIRED,
    expect: { code: "STARTTLS_REFUSED", phase: "starttls", failClosed: true },
  },
  {
    id: "N6", title: "220 to STARTTLS, then plaintext: handshake fails, no plaintext retry",
    server: { rules: [{ on: "STARTTLS", starttls: "plaintext" }] },
    relay: REQUIRED,
    expect: { code: "TLS_HANDSHAKE_FAILED", phase: "tls", failClosed: true, extra: noPlainRetry },
  },
  {
    id: "N7", title: "220 + injected EHLO reply in one segment",
    server: { rules: [{ on: "STARTTLS", reply: "220 Ready", raw: "250-x\r\n250 AUTH PLAIN\r\n" }] },
    relay: REQUIRED,
    expect: {
      code: "STARTTLS_INJECTION", phase: "starttls", failClosed: true, silentAfterTls: true,
      extra: (srv) => assert.equal(srv.tls, null, "no handshake over an injected stream"),
    },
  },
  {
    id: "N8", title: "220 + injected future replies (235, 250 queued)",
    server: { rules: [{ on: "STARTTLS", reply: "220 Ready", raw: "235 2.7.0 ok\r\n250 2.1.0 ok\r\n250 2.0.0 queued\r\n" }] },
    relay: REQUIRED,
    expect: { code: "STARTTLS_INJECTION", phase: "starttls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "N9/auth", title: "post-TLS EHLO drops PLAIN: only LOGIN is used",
    server: {
      capabilities: ["PIPELINING", "AUTH PLAIN", "STARTTLS"],
      capabilitiesTls: ["AUTH LOGIN"],
      authMechanisms: ["PLAIN", "LOGIN"],
    },
    relay: REQUIRED,
    expect: {
      ok: true, failClosed: false,
      extra(srv) {
        delivered(srv);
        assert.deepEqual(srv.received.authLines.slice(0, 1), ["AUTH LOGIN"]);
        assert.equal(srv.sawAuth("plain"), false);
      },
    },
  },
  {
    id: "N9/none", title: "AUTH offered only before TLS: AUTH_UNAVAILABLE, no AUTH",
    server: { capabilities: ["AUTH PLAIN LOGIN", "STARTTLS"], capabilitiesTls: ["PIPELINING", "8BITMIME"] },
    relay: REQUIRED,
    expect: { code: "AUTH_UNAVAILABLE", phase: "auth", failClosed: true },
  },
  {
    id: "N10", title: "63 SASL mechanisms in clear, no STARTTLS (opportunistic + auth)",
    server: {
      starttls: false,
      capabilities: ["PIPELINING", `AUTH ${Array.from({ length: 63 }, (_, i) => i === 0 ? "PLAIN" : `X-MECH-${i}`).join(" ")}`],
    },
    relay: `${OPPORTUNISTIC}, ${AUTH}`,
    expect: { code: "AUTH_UNAVAILABLE", failClosed: true },
  },
  {
    id: "N11", title: "STARTTLS sent alone (server advertises PIPELINING)",
    server: {},
    relay: REQUIRED,
    expect: {
      ok: true, failClosed: false,
      extra(srv) {
        const c = srv.connections[0];
        assert.equal(c.afterStartTlsPlain.bytes.length, 0, "bytes pipelined after STARTTLS");
        const chunk = c.beforeTls.chunks.map((b) => Buffer.from(b).toString("latin1")).find((t) => t.includes("STARTTLS"));
        assert.equal(chunk, "STARTTLS\r\n", "STARTTLS shares its segment with nothing");
        assert.equal(srv.sawAuth("plain") || srv.sawMailOrRcpt("plain"), false);
      },
    },
  },
  {
    id: "N12", title: "opportunistic, no STARTTLS, no auth: continue in clear, tls: null",
    server: { starttls: false },
    relay: OPPORTUNISTIC,
    expect: {
      ok: true, failClosed: false,
      extra(srv, result) {
        assert.equal(result.tls, null);
        delivered(srv);
        assert.equal(srv.sawAuth(), false);
      },
    },
  },
  {
    id: "N12/auth", title: "opportunistic + auth, no STARTTLS: AUTH_UNAVAILABLE (contract rule)",
    server: { starttls: false },
    relay: `${OPPORTUNISTIC}, ${AUTH}`,
    expect: { code: "AUTH_UNAVAILABLE", failClosed: true },
  },
  {
    id: "N12/allowed", title: "opportunistic + auth + allow_plaintext_auth: AUTH in clear as asked",
    server: { starttls: false },
    relay: `strategy: starttls, security: { tls: opportunistic, allow_plaintext_auth: true }, ${AUTH}`,
    expect: {
      ok: true, failClosed: false,
      extra(srv, result) {
        assert.equal(result.tls, null);
        assert.equal(srv.sawAuth("plain"), true);
        delivered(srv);
      },
    },
  },

  // ─── Certificates and TLS parameters ───
  {
    id: "C1", title: "self-signed certificate",
    server: { tls: { identity: "selfSigned" } },
    relay: REQUIRED,
    expect: { code: "CERT_UNTRUSTED", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C1/implicit", title: "self-signed certificate, implicit TLS",
    server: { mode: "implicit", tls: { identity: "selfSigned" } },
    relay: IMPLICIT,
    expect: { code: "CERT_UNTRUSTED", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C2", title: "chain to an unknown root",
    server: { tls: { identity: "otherLeaf" } },
    relay: REQUIRED,
    expect: { code: "CERT_UNTRUSTED", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C2/ca", title: "chain to an unknown root, that root given in ca: succeeds",
    server: { tls: { identity: "otherLeaf" } },
    relay: `strategy: starttls, security: { tls: required, ca: ${pki.otherCa.cert.path}, server_name: localhost }, ${AUTH}`,
    expect: { ok: true, failClosed: false, extra: delivered },
  },
  {
    id: "C3", title: "certificate for another host",
    server: { tls: { identity: "wrongHost" } },
    relay: REQUIRED,
    expect: { code: "CERT_HOSTNAME_MISMATCH", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C3/server_name", title: "certificate for another host, server_name names it: succeeds",
    server: { tls: { identity: "wrongHost" } },
    relay: `strategy: starttls, security: { tls: required, ca: ${CA}, server_name: wrong.example }, ${AUTH}`,
    expect: { ok: true, failClosed: false, extra: delivered },
  },
  {
    id: "C4", title: "expired certificate",
    server: { tls: { identity: "expired" } },
    relay: REQUIRED,
    expect: { code: "CERT_EXPIRED", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C5", title: "valid certificate, wrong SPKI pin",
    server: {},
    relay: starttlsWith(`pin: "${NEVER_SEEN}"`),
    refusedBy: ["deno"],
    expect: { code: "CERT_PIN_MISMATCH", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C5/implicit", title: "valid certificate, wrong SPKI pin, implicit TLS",
    server: { mode: "implicit" },
    relay: `strategy: implicit, security: { ca: ${CA}, server_name: localhost, pin: "${NEVER_SEEN}" }, ${AUTH}`,
    refusedBy: ["deno"],
    expect: { code: "CERT_PIN_MISMATCH", phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C5/ok", title: "right pin among two (rotation): succeeds",
    server: {},
    relay: starttlsWith(`pin: ["${NEVER_SEEN}", "${pki.leaf.pin}"]`),
    refusedBy: ["deno"],
    expect: { ok: true, failClosed: false, extra: delivered },
  },
  {
    id: "C6", title: "TLS 1.0/1.1 only",
    server: { tls: { minVersion: "TLSv1", maxVersion: "TLSv1.1" } },
    relay: REQUIRED,
    expect: { code: ["TLS_HANDSHAKE_FAILED", "TLS_VERSION_TOO_LOW"], phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C7", title: "TLS 1.2 only, min_tls 1.3",
    server: { tls: { maxVersion: "TLSv1.2" } },
    relay: starttlsWith(`min_tls: "1.3"`),
    refusedBy: ["deno"],
    expect: { code: ["TLS_VERSION_TOO_LOW", "TLS_HANDSHAKE_FAILED"], phase: "tls", failClosed: true, silentAfterTls: true },
  },
  {
    id: "C8", title: "220 to STARTTLS, then silence",
    server: { rules: [{ on: "STARTTLS", starttls: "silent" }] },
    relay: `${REQUIRED}, timeouts: { tls: 1s }`,
    expect: { code: "TIMEOUT", phase: "tls", failClosed: true },
  },
  {
    id: "C8/no-retry", title: "220 to STARTTLS, then silence: not retried on the same relay",
    server: { rules: [{ on: "STARTTLS", starttls: "silent" }] },
    relay: `${REQUIRED}, timeouts: { tls: 1s }, retry: { attempts: 3, backoff: 10ms }`,
    expect: {
      code: "TIMEOUT", phase: "tls", failClosed: true,
      extra(_srv, result) {
        assert.equal(result.attempts.length, 1, "one try: a stalled handshake stalls again");
      },
    },
  },
  {
    id: "C9/with", title: "client certificate required, client_cert given: succeeds",
    server: { tls: { requireClientCert: true } },
    relay: starttlsWith(`client_cert: { cert: ${pki.client.cert.path}, key: ${pki.client.key.path} }`),
    refusedBy: ["deno"],
    expect: {
      ok: true, failClosed: false,
      extra(srv) {
        delivered(srv);
        assert.ok(srv.tls?.clientCert, "the server saw the client certificate");
      },
    },
  },
  {
    id: "C9/implicit", title: "client certificate required, implicit TLS (every adapter)",
    server: { mode: "implicit", tls: { requireClientCert: true } },
    relay: `host: localhost, strategy: implicit, security: { ca: ${CA}, client_cert: { cert: ${pki.client.cert.path}, key: ${pki.client.key.path} } }, ${AUTH}`,
    expect: { ok: true, failClosed: false, extra: (srv) => assert.ok(srv.tls?.clientCert) },
  },
  {
    id: "C9/without", title: "client certificate required, none given: clear error",
    server: { tls: { requireClientCert: true } },
    relay: REQUIRED,
    expect: {
      code: "TLS_HANDSHAKE_FAILED", phase: "tls", failClosed: true, messageIncludes: /client cert/i,
    },
  },

  // ─── Mode mismatch ───
  {
    id: "M1", title: "implicit TLS against a plaintext port",
    server: {},
    relay: IMPLICIT,
    expect: { code: "TLS_MODE_MISMATCH", phase: "tls", failClosed: true, silentAfterTls: true, messageIncludes: /starttls/ },
  },
  // M2: a greeting timeout (120 s) longer than the test runner's own (60 s), so only the early answer can
  // pass; three tries allowed, so "one attempt" shows the mismatch is final.
  ...(["starttls", "plain"] as const).map((strategy): Row => ({
    id: strategy === "starttls" ? "M2" : "M2/plain",
    title: `${strategy} against an implicit-TLS port: final TLS_MODE_MISMATCH without waiting for the greeting timeout`,
    server: { mode: "implicit" },
    relay: strategy === "starttls"
      ? `${REQUIRED}, timeouts: { greeting: 120s }, retry: { attempts: 3 }`
      : `strategy: plain, security: { tls: none }, timeouts: { greeting: 120s }, retry: { attempts: 3 }`,
    greetingSilenceMs: 0,
    expect: {
      code: "TLS_MODE_MISMATCH", phase: "greeting", temporary: false, failClosed: true,
      messageIncludes: /implicit/, hintIncludes: /strategy: implicit/,
      connections: 2, // the silent one, and the ClientHello that asked
      extra(_srv, result) {
        assert.equal(result.attempts.length, 1, "not retried");
        assert.equal(result.queued, undefined);
      },
    },
  })),
  {
    id: "M2/slow-greeting", title: "a plaintext server that greets late is not mistaken for implicit TLS",
    server: { greeting: { delayMs: 300 } },
    relay: `${REQUIRED}, timeouts: { greeting: 60s }`,
    greetingSilenceMs: 0,
    expect: { ok: true, failClosed: false, connections: null }, // the greeting may win the race against the second connection
  },

  // ─── Robustness ───
  {
    id: "R1/slowloris", title: "EHLO reply at one byte per 200 ms",
    server: {
      rules: [{ on: "EHLO", reply: ["250-mx", ...Array(20).fill("250-X-PADDING"), "250 STARTTLS"], segment: { bytes: 1, delayMs: 200 } }],
    },
    relay: `${REQUIRED}, timeouts: { command: 2s }`,
    expect: { code: "TIMEOUT", phase: "ehlo", failClosed: true },
  },
  {
    id: "R1/endless", title: "endless 250-x lines as fast as possible",
    server: { rules: [{ on: "EHLO", reply: ["250-mx"], endless: { line: "250-x", maxBytes: 4 << 20 } }] },
    relay: `${REQUIRED}, timeouts: { command: 2s }`,
    expect: { code: "PROTOCOL_ERROR", phase: "ehlo", failClosed: true },
  },
  {
    id: "R1/endless-slow", title: "endless 250-x lines, one per 50 ms",
    server: { rules: [{ on: "EHLO", reply: ["250-mx"], endless: { line: "250-x", intervalMs: 50 } }] },
    relay: `${REQUIRED}, timeouts: { command: 2s }`,
    expect: { code: "TIMEOUT", phase: "ehlo", failClosed: true },
  },
  {
    id: "R2/no-crlf", title: "greeting without CRLF, then close",
    server: { greeting: { reply: null, raw: "220 no line end", then: "close" } },
    relay: REQUIRED,
    expect: { code: "PROTOCOL_ERROR", phase: "greeting", failClosed: true },
  },
  {
    id: "R2/long", title: "200 KB greeting line with no CRLF (over the 8 KiB line cap)",
    server: { greeting: { reply: null, raw: "220 " + "a".repeat(200_000), then: "hang" } },
    relay: REQUIRED,
    expect: { code: "PROTOCOL_ERROR", phase: "greeting", failClosed: true },
  },
  ...MALFORMED.map(([label, raw]): Row => ({
    id: `R3/${label}`, title: `EHLO answered ${JSON.stringify(raw)}`,
    server: { rules: [{ on: "EHLO", reply: null, raw }] },
    relay: REQUIRED,
    expect: { code: "PROTOCOL_ERROR", phase: "ehlo", failClosed: true },
  })),
  {
    id: "R3/bare-LF", title: "greeting and EHLO lines ending in bare LF",
    server: { greeting: { reply: null, raw: "220 mx ESMTP\n" }, rules: [{ on: "EHLO", reply: null, raw: "250-mx\n250 STARTTLS\n" }] },
    relay: `${REQUIRED}, timeouts: { greeting: 1s, command: 1s }`,
    expect: { code: "PROTOCOL_ERROR", failClosed: true },
  },
  {
    id: "R4/554", title: "greeting 554: clear error, answered with QUIT",
    server: { greeting: "554 5.3.2 no service" },
    relay: REQUIRED,
    expect: {
      code: "REJECTED", phase: "greeting", temporary: false, failClosed: true,
      extra: (srv) => assert.deepEqual(srv.received.commands.map((c) => c.verb), ["QUIT"]),
    },
  },
  {
    id: "R4/421-greeting", title: "greeting 421",
    server: { greeting: { reply: "421 4.3.2 busy", then: "close" } },
    relay: REQUIRED,
    expect: { code: "TEMPORARY_FAILURE", phase: "greeting", temporary: true, failClosed: true },
  },
  {
    id: "R4/421-ehlo", title: "EHLO 421",
    server: { rules: [{ on: "EHLO", reply: "421 4.3.2 busy", then: "close" }] },
    relay: REQUIRED,
    expect: { code: "TEMPORARY_FAILURE", phase: "ehlo", temporary: true, failClosed: true, extra: noHelo },
  },
  {
    id: "R4/421-auth", title: "AUTH 421 (after TLS)",
    server: { rules: [{ on: "AUTH", reply: "421 4.3.2 busy", then: "close" }] },
    relay: REQUIRED,
    expect: { code: "TEMPORARY_FAILURE", phase: "auth", temporary: true, failClosed: false },
  },
  {
    id: "R4/421-mail", title: "MAIL 421",
    server: { rules: [{ on: "MAIL", reply: "421 4.3.2 busy", then: "close" }] },
    relay: REQUIRED,
    expect: { code: "TEMPORARY_FAILURE", phase: "mail", temporary: true, failClosed: false },
  },
  {
    id: "R4/421-rcpt", title: "RCPT 421",
    server: { rules: [{ on: "RCPT", reply: "421 4.3.2 busy", then: "close" }] },
    relay: REQUIRED,
    expect: {
      code: "TEMPORARY_FAILURE", phase: "rcpt", temporary: true, failClosed: false,
      extra: (srv) => assert.equal(srv.received.bodies.length, 0),
    },
  },
  {
    id: "R4/421-data", title: "DATA 421",
    server: { rules: [{ on: "DATA", reply: "421 4.3.2 busy", then: "close" }] },
    relay: REQUIRED,
    expect: {
      code: "TEMPORARY_FAILURE", phase: "data", temporary: true, failClosed: false,
      extra: (srv) => assert.equal(srv.received.bodies.length, 0),
    },
  },
  {
    id: "R4/421-dot", title: "421 after the final dot",
    server: { rules: [{ on: ".", reply: "421 4.3.2 busy", then: "close" }] },
    relay: REQUIRED,
    expect: { code: "TEMPORARY_FAILURE", phase: "dot", temporary: true, failClosed: false },
  },
  {
    id: "R5/354-reset", title: "connection reset right after 354",
    server: { rules: [{ on: "DATA", reply: "354 go", then: "reset" }] },
    relay: REQUIRED,
    // The small body and its dot are written before the reset arrives: from the client's side
    // the dot left and no reply came, which is exactly "delivery status unknown".
    expect: { code: "DELIVERY_UNKNOWN", phase: "dot", failClosed: false },
  },
  {
    id: "R5/dot-reset", title: "reset after the final dot, no reply",
    server: { rules: [{ on: ".", reply: null, then: "reset" }] },
    relay: REQUIRED,
    expect: { code: "DELIVERY_UNKNOWN", phase: "dot", failClosed: false, messageIncludes: /unknown|may or may not/i },
  },
  {
    id: "R5/dot-close", title: "close after the final dot, no reply",
    server: { rules: [{ on: ".", reply: null, then: "close" }] },
    relay: REQUIRED,
    expect: { code: "DELIVERY_UNKNOWN", phase: "dot", failClosed: false, messageIncludes: /unknown|may or may not/i },
  },
  {
    id: "R6/mixed", title: "RCPT 450 for one, 550 for the other: per-recipient result, the 450 one retryable",
    server: {
      rules: [
        { on: "RCPT", nth: 1, reply: "450 4.2.1 mailbox busy" },
        { on: "RCPT", nth: 2, reply: "550 5.1.1 no such user" },
      ],
    },
    relay: REQUIRED,
    envelope: { from: "sender@example.com", to: ["busy@example.com", "gone@example.com"] },
    expect: {
      // As when some recipients were accepted (R6/some-4xx): a 4xx left after the tries is TEMPORARY_FAILURE.
      code: "TEMPORARY_FAILURE", phase: "rcpt", temporary: true, failClosed: false,
      extra(srv, result) {
        assert.equal(srv.received.bodies.length, 0, "no message byte when no recipient was accepted");
        assert.deepEqual(result.accepted, []);
        assert.deepEqual(result.rejected.map((r) => [r.address, r.code]), [["busy@example.com", 450], ["gone@example.com", 550]]);
      },
    },
  },
  {
    id: "R6/4xx-only", title: "RCPT 450 for both: TEMPORARY_FAILURE, temporary",
    server: { rules: [{ on: "RCPT", reply: "450 4.2.1 mailbox busy" }] },
    relay: REQUIRED,
    envelope: { from: "sender@example.com", to: ["a@example.com", "b@example.com"] },
    expect: {
      code: "TEMPORARY_FAILURE", phase: "rcpt", temporary: true, failClosed: false,
      extra(srv, result) {
        assert.equal(srv.received.bodies.length, 0);
        assert.deepEqual(result.rejected.map((r) => r.code), [450, 450]);
      },
    },
  },
  {
    id: "R6/5xx-only", title: "RCPT 550 for both (PIPELINING): REJECTED, permanent, no message byte",
    server: { rules: [{ on: "RCPT", reply: "550 5.1.1 no such user" }] },
    relay: REQUIRED,
    envelope: { from: "sender@example.com", to: ["a@example.com", "b@example.com"] },
    expect: {
      code: "REJECTED", phase: "rcpt", temporary: false, failClosed: false,
      extra(srv, result) {
        // With PIPELINING, RFC 2920 lets DATA travel in the MAIL/RCPT group (the server answers 554);
        // what must never follow is the message.
        assert.equal(srv.received.bodies.length, 0, "no message byte");
        assert.deepEqual(result.accepted, []);
        assert.deepEqual(result.rejected.map((r) => r.code), [550, 550]);
      },
    },
  },
  {
    id: "R6/no-pipelining", title: "RCPT 550 for both, no PIPELINING: no DATA command at all",
    server: {
      capabilities: ["SIZE 10485760", "8BITMIME", "AUTH PLAIN LOGIN", "STARTTLS"],
      capabilitiesTls: ["SIZE 10485760", "8BITMIME", "AUTH PLAIN LOGIN"],
      rules: [{ on: "RCPT", reply: "550 5.1.1 no such user" }],
    },
    relay: REQUIRED,
    envelope: { from: "sender@example.com", to: ["a@example.com", "b@example.com"] },
    expect: {
      code: "REJECTED", phase: "rcpt", temporary: false, failClosed: false,
      extra(srv) {
        assert.equal(srv.sawData(), false, `no DATA when none accepted: ${lines(srv)}`);
      },
    },
  },
  {
    id: "R6/some-5xx", title: "one accepted, one 550: sent to the accepted one, both lists",
    server: { rules: [{ on: "RCPT", nth: 2, reply: "550 5.1.1 no such user" }] },
    relay: REQUIRED,
    envelope: { from: "sender@example.com", to: ["ok@example.com", "gone@example.com"] },
    expect: {
      code: "RECIPIENTS_REJECTED", temporary: false, failClosed: false,
      extra(srv, result) {
        delivered(srv);
        assert.deepEqual(result.accepted, ["ok@example.com"]);
        assert.deepEqual(result.rejected.map((r) => [r.address, r.code]), [["gone@example.com", 550]]);
      },
    },
  },
  {
    id: "R6/some-4xx", title: "one accepted, one 450, one 550: sent to the accepted one, the 450 left temporary",
    server: {
      rules: [
        { on: "RCPT", nth: 2, reply: "450 4.2.1 mailbox busy" },
        { on: "RCPT", nth: 3, reply: "550 5.1.1 no such user" },
      ],
    },
    relay: REQUIRED,
    envelope: { from: "sender@example.com", to: ["ok@example.com", "busy@example.com", "gone@example.com"] },
    expect: {
      code: "TEMPORARY_FAILURE", phase: "rcpt", temporary: true, failClosed: false,
      extra(srv, result) {
        delivered(srv);
        assert.deepEqual(result.accepted, ["ok@example.com"]);
        assert.deepEqual(result.rejected.map((r) => [r.address, r.code]), [["busy@example.com", 450], ["gone@example.com", 550]]);
      },
    },
  },
  {
    id: "R7/endless-334", title: "endless 334 challenges",
    server: { authMechanisms: ["LOGIN"], rules: [{ on: "AUTH", reply: "334 VXNlcm5hbWU6" }, { on: "SASL", reply: "334 UGFzc3dvcmQ6" }] },
    relay: `${TLS_REQUIRED}, auth: { mechanism: login, user: me, password: { env: MAILPLAN_THREATS_PW } }`,
    expect: {
      code: ["AUTH_FAILED", "PROTOCOL_ERROR"], phase: "auth", failClosed: false,
      extra(srv) {
        assert.ok(srv.received.authLines.length <= 12, `AUTH rounds are bounded: ${srv.received.authLines.length}`);
        assert.equal(srv.sawMailOrRcpt(), false);
      },
    },
  },
  {
    id: "R7/bad-base64", title: "CRAM-MD5 challenge that is not base64",
    server: { authMechanisms: ["CRAM-MD5"], rules: [{ on: "AUTH", reply: "334 %%%not*base64%%%" }] },
    relay: `${TLS_REQUIRED}, auth: { mechanism: cram-md5, user: me, password: { env: MAILPLAN_THREATS_PW } }`,
    expect: {
      code: "PROTOCOL_ERROR", phase: "auth", failClosed: false,
      extra: (srv) => assert.equal(srv.sawMailOrRcpt(), false),
    },
  },
  {
    id: "R9", title: "lone dots, bare LF, bare CR: dot-stuffed, CRLF-only",
    server: {},
    relay: REQUIRED,
    message: te.encode(R9_BODY),
    expect: {
      ok: true, failClosed: false,
      extra(srv) {
        delivered(srv);
        const got = Buffer.from(srv.received.bodies[0]).toString("latin1") + ".\r\n";
        assert.doesNotMatch(got, /\r(?!\n)|(?<!\r)\n/, "CRLF only: no bare CR, no bare LF");
        const body = got.slice(0, -3).split("\r\n");
        body.pop(); // after the last CRLF
        assert.ok(body.every((l) => !l.startsWith(".") || l.startsWith("..")), `every dot line stuffed: ${JSON.stringify(body)}`);
        assert.ok(!got.slice(0, -3).includes("\r\n.\r\n"), "no early end of data (smuggling)");
        const unstuffed = body.map((l) => l.startsWith(".") ? l.slice(1) : l);
        const expected = R9_BODY.split(/\r\n|\r|\n/);
        assert.deepEqual(unstuffed, expected, "lines survive unchanged but for their endings");
      },
    },
  },
];

const summary: string[] = [];
after(() => {
  if (process.env.MAILPLAN_THREATS_REPORT === "1") console.log(summary.join("\n"));
  assertAllHostileClosed();
});

for (const adapter of availableAdapters()) {
  describe(`threat catalogue [${adapter}]`, () => {
    for (const row of rows) {
      const name = `${row.id}: ${row.title}`;
      const run = async () => {
        const { result, ms } = await runRow(row, adapter);
        summary.push(`${row.id}\t${adapter}\t${result.ok ? "ok" : `${result.error?.code}/${result.error?.phase}`}\t${ms} ms`);
      };
      test(name, run);
    }

    test("R8: CR/LF in the envelope → MESSAGE_INVALID before any connection", async () => {
      const srv = await startHostile({});
      try {
        const config = makeConfig({ r: { port: srv.port, snippet: REQUIRED } });
        for (const bad of ["a@example.com\r\nRCPT TO:<x@evil.example>", "a@example.com\nDATA", "a\r@example.com"]) {
          for (const env of [{ from: bad, to: ["rcpt@example.com"] }, { from: "s@example.com", to: [bad] }]) {
            assert.throws(() => planEnvelope(config, env), (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID");
            // Bypassing the planner: the engine refuses too.
            const tx = { ...plan(config, "r"), from: env.from, recipients: env.to };
            const { result } = await send(tx, adapter);
            assert.equal(result.error?.code, "MESSAGE_INVALID", JSON.stringify(result.error));
          }
        }
        assert.equal(srv.connectionCount, 0);
      } finally {
        await srv.close();
      }
    });

    test("R8: CR/LF in the EHLO name or AUTH user → CONFIG_INVALID, nothing connected", async () => {
      const srv = await startHostile({});
      try {
        for (const yaml of [`helo: "client.example\\r\\nMAIL FROM:<x>"`, `auth: { user: "me\\r\\nRSET", password: { env: MAILPLAN_THREATS_PW } }`]) {
          const text = `version: 1\nrelays:\n  r: { host: 127.0.0.1, port: ${srv.port}, strategy: starttls, ${yaml} }\nroutes:\n  - { name: r, via: [r] }\n`;
          const loaded = parseConfig(text, "/tmp/threats.yaml");
          assert.equal(loaded.config, undefined, `config with CR/LF must not load: ${yaml}`);
          assert.ok(loaded.problems.some((p) => p.severity === "error"));
        }
        const config = makeConfig({ r: { port: srv.port, snippet: REQUIRED } });
        const tx = plan(config, "r");
        for (const relay of [{ ...tx.relays[0], helo: "client.example\r\nMAIL FROM:<x>" }, { ...tx.relays[0], auth: { ...tx.relays[0].auth!, user: "me\r\nRSET" } }]) {
          const { result } = await send({ ...tx, relays: [relay] }, adapter);
          assert.equal(result.error?.code, "CONFIG_INVALID", JSON.stringify(result.error));
        }
        assert.equal(srv.connectionCount, 0);
      } finally {
        await srv.close();
      }
    });

    test("R10: a TLS-required send after a clear one uses a fresh connection and fails closed", async () => {
      // The engine has no pool: every transaction opens its own connection. Same server, two policies.
      const srv = await startHostile({ starttls: false });
      try {
        const config = makeConfig({
          clear: { port: srv.port, snippet: OPPORTUNISTIC },
          strict: { port: srv.port, snippet: REQUIRED },
        });
        const first = await send(plan(config, "clear"), adapter);
        assert.equal(first.result.ok, true, String(first.transcript));
        assert.equal(first.result.tls, null);
        const second = await send(plan(config, "strict"), adapter);
        await settle(srv);
        assert.equal(second.result.error?.code, "STARTTLS_UNAVAILABLE", String(second.transcript));
        assert.equal(srv.connectionCount, 2, "a second, fresh connection");
        const c2 = srv.connections[1];
        assert.deepEqual(c2.commands.map((c) => c.verb).filter((v) => v !== "QUIT"), ["EHLO"], "only EHLO on the fresh connection");
        assert.equal(c2.authLines.length + c2.bodies.length, 0);
        assert.ok(!c2.beforeTls.text.includes(PASSWORD));
      } finally {
        await srv.close();
      }
    });
  });
}
