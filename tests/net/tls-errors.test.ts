/** Pure parts of lib/net: classification, pins, session checks, hostname match, DER walker, queue. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { PeerCertificate, TlsFacts } from "../../lib/net/conn.ts";
import { ReadQueue } from "../../lib/net/queue.ts";
import { classifyTlsError, connectError, type TlsContext } from "../../lib/net/classify.ts";
import { NetError } from "../../lib/net/errors.ts";
import { checkPins, checkSession } from "../../lib/net/verify.ts";
import { peerCertificateFromDer, pemToDer, spkiPinFromDer, validityFromDer } from "../../lib/net/x509.ts";
import { makePki } from "../support/certs.ts";

const pki = makePki();
const cert = (pem: string): PeerCertificate => peerCertificateFromDer(pemToDer(pem)[0]);
const ctx = (o: Partial<TlsContext> = {}): TlsContext => ({
  host: "127.0.0.1",
  port: 465,
  mode: "implicit",
  name: "127.0.0.1",
  clientCert: false,
  ...o,
});

describe("classifyTlsError", () => {
  const err = (code: string, message: string) => Object.assign(new Error(message), { code });
  const deno = (name: string, message: string) => Object.assign(new Error(message), { name });
  const expiredChain = [cert(pki.expired.cert.pem), cert(pki.intermediate.cert.pem)];
  const validChain = [cert(pki.leaf.cert.pem)];
  // [label, error, context, expected code, message pattern]
  const cases: [string, unknown, TlsContext, string, RegExp?][] = [
    [
      "node: plaintext port",
      err("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"),
      ctx(),
      "TLS_MODE_MISMATCH",
      /starttls/,
    ],
    [
      "bun native: plaintext port",
      err("EPROTO", "error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER"),
      ctx(),
      "TLS_MODE_MISMATCH",
      /starttls/,
    ],
    [
      "deno: plaintext port",
      deno("InvalidData", "received corrupt message of type InvalidContentType"),
      ctx(),
      "TLS_MODE_MISMATCH",
      /starttls/,
    ],
    [
      "plaintext after STARTTLS 220",
      err("ERR_SSL_WRONG_VERSION_NUMBER", "x"),
      ctx({ mode: "starttls" }),
      "TLS_HANDSHAKE_FAILED",
      /STARTTLS/,
    ],
    ["self-signed (code)", "DEPTH_ZERO_SELF_SIGNED_CERT", ctx(), "CERT_UNTRUSTED", /self-signed/],
    [
      "self-signed (bun: leaf signature)",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      ctx({ peerChain: [cert(pki.selfSigned.cert.pem)] }),
      "CERT_UNTRUSTED",
      /self-signed/,
    ],
    ["unknown CA", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", ctx(), "CERT_UNTRUSTED", /trusted CA/],
    [
      "deno: unknown issuer",
      deno("InvalidData", "invalid peer certificate: UnknownIssuer"),
      ctx(),
      "CERT_UNTRUSTED",
    ],
    [
      "missing intermediate",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      ctx({ peerChain: validChain }),
      "CERT_UNTRUSTED",
    ],
    [
      "deno node:tls expired",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      ctx({ peerChain: expiredChain }),
      "CERT_EXPIRED",
      /2021-01-01/,
    ],
    ["expired (code)", "CERT_HAS_EXPIRED", ctx(), "CERT_EXPIRED"],
    [
      "deno: expired",
      deno(
        "InvalidData",
        "invalid peer certificate: certificate expired: verification time 1795680988 (UNIX), but certificate is not valid after 1609459200 (186221788 seconds ago)",
      ),
      ctx(),
      "CERT_EXPIRED",
      /expired on 2021-01-01T00:00:00/,
    ],
    [
      "wrong host (code)",
      "ERR_TLS_CERT_ALTNAME_INVALID",
      ctx({ name: "mx.example" }),
      "CERT_HOSTNAME_MISMATCH",
      /"mx\.example"/,
    ],
    [
      "deno: wrong host",
      deno(
        "InvalidData",
        'invalid peer certificate: certificate not valid for name "localhost"; certificate is only valid for DnsName("wrong.example")',
      ),
      ctx({ name: "localhost" }),
      "CERT_HOSTNAME_MISMATCH",
      /wrong\.example/,
    ],
    [
      "TLS 1.2 server, min 1.3",
      err("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", "alert"),
      ctx({ minVersion: "1.3" }),
      "TLS_VERSION_TOO_LOW",
      /TLS 1\.3/,
    ],
    [
      "deno: protocol version",
      deno("InvalidData", "received fatal alert: ProtocolVersion"),
      ctx(),
      "TLS_VERSION_TOO_LOW",
    ],
    [
      "client cert required",
      err("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "alert"),
      ctx(),
      "TLS_HANDSHAKE_FAILED",
      /requires a client certificate/,
    ],
    [
      "deno: client cert required",
      deno("InvalidData", "received fatal alert: CertificateRequired"),
      ctx(),
      "TLS_HANDSHAKE_FAILED",
      /client certificate/,
    ],
    [
      "client cert rejected",
      err("ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE", "alert"),
      ctx({ clientCert: true }),
      "TLS_HANDSHAKE_FAILED",
      /rejected the client certificate/,
    ],
    ["anything else", new Error("boom"), ctx(), "TLS_HANDSHAKE_FAILED", /boom/],
  ];
  for (const [label, input, c, code, re] of cases) {
    test(label, () => {
      const e = classifyTlsError(input, c);
      assert.ok(e instanceof NetError);
      assert.equal(e.code, code, e.message);
      assert.equal(e.phase, "tls");
      assert.equal(e.temporary, false);
      if (re) assert.match(e.message, re);
      assert.match(e.message, /^[A-Z].*\.$/, "one sentence");
      assert.ok(e.hint.length > 10);
    });
  }
  test("hints name the config key to change", () => {
    assert.match(classifyTlsError("UNABLE_TO_GET_ISSUER_CERT_LOCALLY", ctx()).hint, /security\.ca/);
    assert.match(classifyTlsError("ERR_TLS_CERT_ALTNAME_INVALID", ctx()).hint, /security\.server_name/);
    assert.match(
      classifyTlsError("ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", ctx({ minVersion: "1.3" })).hint,
      /security\.min_tls/,
    );
    assert.match(
      classifyTlsError("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", ctx()).hint,
      /security\.client_cert/,
    );
    assert.match(classifyTlsError("ERR_SSL_WRONG_VERSION_NUMBER", ctx()).hint, /strategy: starttls/);
  });
});

describe("connectError", () => {
  test("refused (node and deno spellings) is temporary CONNECT_FAILED", () => {
    for (
      const e of [
        Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
        Object.assign(new Error("Connection refused (os error 111)"), { name: "ConnectionRefused" }),
      ]
    ) {
      const n = connectError(e, "127.0.0.1", 1);
      assert.equal(n.code, "CONNECT_FAILED");
      assert.equal(n.phase, "connect");
      assert.equal(n.temporary, true);
      assert.match(n.message, /refused/);
    }
  });
  test("DNS failure is permanent", () => {
    const n = connectError(
      Object.assign(new Error("getaddrinfo ENOTFOUND x.invalid"), { code: "ENOTFOUND" }),
      "x.invalid",
      25,
    );
    assert.equal(n.temporary, false);
    assert.match(n.hint, /host/);
  });
});

describe("pins and session checks", () => {
  const facts = (o: Partial<TlsFacts> = {}): TlsFacts => ({
    adapter: "node-tls",
    version: "TLSv1.3",
    cipher: "TLS_AES_128_GCM_SHA256",
    authorized: true,
    authorizationError: null,
    peerChain: [cert(pki.leaf.cert.pem)],
    mode: "implicit",
    ...o,
  });
  test("checkPins: none, match, rotation list, mismatch, invisible certificate", () => {
    assert.equal(checkPins(undefined, facts()), null);
    assert.equal(checkPins([], facts()), null);
    assert.equal(checkPins([pki.leaf.pin], facts()), null);
    assert.equal(checkPins([pki.otherCa.pin, ` ${pki.leaf.pin} `], facts()), null);
    const e = checkPins([pki.otherCa.pin], facts())!;
    assert.equal(e.code, "CERT_PIN_MISMATCH");
    assert.ok(e.message.includes(pki.leaf.pin));
    assert.match(e.hint, /security\.pin/);
    const u = checkPins([pki.leaf.pin], facts({ adapter: "deno", peerChain: null }))!;
    assert.equal(u.code, "TLS_HANDSHAKE_FAILED");
    assert.match(u.hint, /node-tls/);
  });
  test("checkSession: unauthorized fails unless verify:false; version floor; pins last", () => {
    const bad = facts({ authorized: false, authorizationError: "CERT_HAS_EXPIRED" });
    assert.equal(checkSession(bad, {}, ctx())?.code, "CERT_EXPIRED");
    assert.equal(checkSession(bad, { verify: false }, ctx()), null);
    assert.equal(
      checkSession(bad, { verify: false, pins: [pki.otherCa.pin] }, ctx())?.code,
      "CERT_PIN_MISMATCH",
    );
    assert.equal(
      checkSession(facts({ version: "TLSv1.2" }), { minVersion: "1.3" }, ctx())?.code,
      "TLS_VERSION_TOO_LOW",
    );
    assert.equal(checkSession(facts({ version: "TLSv1.1" }), {}, ctx())?.code, "TLS_VERSION_TOO_LOW");
    assert.equal(checkSession(facts({ version: null }), { minVersion: "1.2" }, ctx()), null);
    assert.equal(checkSession(facts(), { minVersion: "1.3", pins: [pki.leaf.pin] }, ctx()), null);
  });
});

describe("x509 DER walker", () => {
  test("SPKI pin equals openssl's for every certificate of the test PKI", () => {
    for (
      const ck of [
        pki.root,
        pki.intermediate,
        pki.leaf,
        pki.selfSigned,
        pki.wrongHost,
        pki.expired,
        pki.otherCa,
        pki.otherLeaf,
        pki.clientCa,
        pki.client,
      ]
    ) {
      assert.equal(spkiPinFromDer(pemToDer(ck.cert.pem)[0]), ck.pin, ck.cert.path);
    }
  });
  test("validity and names", () => {
    const { notBefore, notAfter } = validityFromDer(pemToDer(pki.expired.cert.pem)[0]);
    assert.equal(notBefore.toISOString(), "2020-01-01T00:00:00.000Z");
    assert.equal(notAfter.toISOString(), "2021-01-01T00:00:00.000Z");
    const leaf = cert(pki.leaf.cert.pem);
    assert.equal(leaf.subject, "CN=localhost");
    assert.equal(leaf.issuer, "CN=mailplan test intermediate CA");
    assert.ok(leaf.subjectAltNames.includes("DNS:localhost"));
    assert.equal(pemToDer(pki.leaf.chain.pem).length, 2);
  });
  test("garbage is rejected, not misread", () => {
    assert.throws(() => spkiPinFromDer(new Uint8Array([0x30, 0x82, 0xff])));
    assert.throws(() => spkiPinFromDer(new Uint8Array([0x02, 0x01, 0x00])));
  });
});

describe("ReadQueue", () => {
  test("pauses above the high-water mark and resumes when drained", async () => {
    const calls: boolean[] = [];
    const q = new ReadQueue((p) => calls.push(p), 10);
    q.push(new Uint8Array(6));
    q.push(new Uint8Array(6));
    assert.deepEqual(calls, [true]);
    assert.equal(q.size, 12);
    await q.read();
    assert.deepEqual(calls, [true], "still above half the mark");
    await q.read();
    assert.deepEqual(calls, [true, false]);
  });
  test("unshift, end after data, error after data, clear", async () => {
    const q = new ReadQueue();
    q.push(Uint8Array.of(2));
    q.unshift(Uint8Array.of(1));
    q.fail(new Error("late"));
    assert.deepEqual(await q.read(), Uint8Array.of(1));
    assert.deepEqual(await q.read(), Uint8Array.of(2));
    await assert.rejects(q.read(), /late/);
    assert.equal(await q.read(), null);
    const q2 = new ReadQueue();
    const pending = q2.read();
    q2.clear();
    assert.equal(await pending, null);
  });
});

test("makePki is cached per process and complete", () => {
  assert.equal(makePki(), pki);
  for (
    const ck of [
      pki.root,
      pki.intermediate,
      pki.leaf,
      pki.selfSigned,
      pki.wrongHost,
      pki.expired,
      pki.otherCa,
      pki.otherLeaf,
      pki.clientCa,
      pki.client,
    ]
  ) {
    assert.match(ck.cert.pem, /BEGIN CERTIFICATE/);
    assert.match(ck.key.pem, /PRIVATE KEY/);
    assert.match(ck.pin, /^sha256\/[A-Za-z0-9+/]{43}=$/);
  }
});
