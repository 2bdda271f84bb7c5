/**
 * Threat rows X4 and X5 (docs/threats.md, "Certificate names" table): TLS parameters a server
 * imposes that mailplan cannot meet. Each row is a whole `send` through the engine against the
 * hostile server, on every adapter of this runtime, with retries allowed (attempts: 3), so a
 * failure wrongly marked temporary shows as extra connections.
 * - X4: TLS 1.3, CertificateRequest, then the "certificate required" alert during EHLO:
 *   TLS_HANDSHAKE_FAILED, permanent, hint naming security.client_cert, one connection.
 * - X5: only ciphers mailplan refuses (TLS 1.2, static-RSA CAMELLIA128-SHA): "no cipher in common"
 *   in words, permanent, hint naming `mailplan probe`.
 */
import { after, describe, test } from "node:test";
import { availableAdapters } from "../../lib/net/detect.ts";
import { makePki, makeRsaLeaf } from "../support/certs.ts";
import { assertAllHostileClosed } from "../support/hostile-server.ts";
import { startOpensslServer } from "../support/openssl-server.ts";
import { AUTH, type Row, runRow } from "./harness.ts";

const pki = makePki();
const CA = pki.root.cert.path;
const RETRY = "retry: { attempts: 3, backoff: 1ms, max_backoff: 1ms }";
const rsa = makeRsaLeaf();
// Deno's node:tls server ignores `ciphers`: the X5 peer is a real `openssl s_server` behind the
// hostile server's STARTTLS (or implicit) front, the same on both runtimes.
const staticRsa = await startOpensslServer({
  certFile: rsa.cert.path,
  keyFile: rsa.key.path,
  cipher: "CAMELLIA128-SHA",
  versions: ["-tls1_2"],
});
// X4 against OpenSSL itself: s_server sends the TLS 1.3 "certificate required" alert the way
// Postfix does, and closes with the client's EHLO unread.
const needsCert = await startOpensslServer({
  certFile: pki.leaf.cert.path,
  keyFile: pki.leaf.key.path,
  cipher: "DEFAULT",
  versions: ["-tls1_3"],
  extra: ["-Verify", "1", "-CAfile", pki.clientCa.cert.path, "-cert_chain", pki.intermediate.cert.path],
});
const X4_EXPECT: Row["expect"] = {
  code: "TLS_HANDSHAKE_FAILED", phase: "tls", temporary: false, failClosed: true,
  messageIncludes: /requires a client certificate/, hintIncludes: /security\.client_cert/, connections: 1,
};

const rows: Row[] = [
  {
    id: "X4/openssl-starttls",
    title: "openssl s_server (TLS 1.3, -Verify) requires a client certificate, none configured (STARTTLS)",
    server: { tls: { upstreamPort: needsCert.port } },
    relay: `strategy: starttls, security: { tls: required, ca: ${CA}, server_name: localhost }, ${RETRY}, ${AUTH}`,
    expect: X4_EXPECT,
  },
  {
    id: "X4/openssl-implicit",
    title: "openssl s_server (TLS 1.3, -Verify) requires a client certificate, none configured (implicit)",
    server: { mode: "implicit", tls: { upstreamPort: needsCert.port } },
    relay: `strategy: implicit, security: { ca: ${CA}, server_name: localhost }, ${RETRY}, ${AUTH}`,
    expect: X4_EXPECT,
  },
  {
    id: "X4/starttls",
    title: "TLS 1.3 server requires a client certificate, none configured (STARTTLS)",
    server: { tls: { requireClientCert: true, minVersion: "TLSv1.3" } },
    relay: `strategy: starttls, security: { tls: required, ca: ${CA}, server_name: localhost }, ${RETRY}, ${AUTH}`,
    expect: {
      code: "TLS_HANDSHAKE_FAILED", phase: "tls", temporary: false, failClosed: true,
      messageIncludes: /requires a client certificate/, hintIncludes: /security\.client_cert/, connections: 1,
    },
  },
  {
    id: "X4/implicit",
    title: "TLS 1.3 server requires a client certificate, none configured (implicit)",
    server: { mode: "implicit", tls: { requireClientCert: true, minVersion: "TLSv1.3" } },
    relay: `strategy: implicit, security: { ca: ${CA}, server_name: localhost }, ${RETRY}, ${AUTH}`,
    expect: {
      code: "TLS_HANDSHAKE_FAILED", phase: "tls", temporary: false, failClosed: true,
      messageIncludes: /requires a client certificate/, hintIncludes: /security\.client_cert/, connections: 1,
    },
  },
  {
    id: "X5/starttls",
    title: "TLS 1.2 server offering only static-RSA CAMELLIA128-SHA",
    server: { tls: { upstreamPort: staticRsa.port } },
    relay: `strategy: starttls, security: { tls: required, ca: ${CA}, server_name: localhost }, ${RETRY}, ${AUTH}`,
    expect: {
      code: "TLS_HANDSHAKE_FAILED", phase: "tls", temporary: false, failClosed: true,
      messageIncludes: /no cipher in common/, hintIncludes: /mailplan probe 127\.0\.0\.1:\d+/, connections: 1,
    },
  },
  {
    id: "X5/implicit",
    title: "TLS 1.2 server offering only static-RSA CAMELLIA128-SHA (implicit)",
    server: { mode: "implicit", tls: { upstreamPort: staticRsa.port } },
    relay: `strategy: implicit, security: { ca: ${CA}, server_name: localhost }, ${RETRY}, ${AUTH}`,
    expect: {
      code: "TLS_HANDSHAKE_FAILED", phase: "tls", temporary: false, failClosed: true,
      messageIncludes: /no cipher in common/, hintIncludes: /mailplan probe/, connections: 1,
    },
  },
];

after(() => {
  staticRsa.close();
  needsCert.close();
  assertAllHostileClosed();
});

for (const adapter of availableAdapters()) {
  describe(`TLS-parameter threats [${adapter}]`, () => {
    for (const row of rows) test(`${row.id}: ${row.title}`, async () => void await runRow(row, adapter));
  });
}
