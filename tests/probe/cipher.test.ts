/**
 * probe against a server whose only ciphers mailplan's runtimes refuse (issue 9, threats X5):
 * a real `openssl s_server` offering static-RSA Camellia on TLS 1.2, behind the hostile
 * server's STARTTLS front and as an implicit-TLS port. The verdict says "no cipher in common",
 * names each suite the server offers and what is weak about it, and puts the fix on the server.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { clientHello, serverAnswer, weaknesses } from "../../lib/probe/offer.ts";
import { makeRsaLeaf } from "../support/certs.ts";
import { assertAllHostileClosed } from "../support/hostile-server.ts";
import { startOpensslServer } from "../support/openssl-server.ts";
import { finding, probeJson, problemCodes, withServer } from "./helpers.ts";

const rsa = makeRsaLeaf();
const camellia = await startOpensslServer({
  certFile: rsa.cert.path,
  keyFile: rsa.key.path,
  cipher: "CAMELLIA256-SHA:CAMELLIA128-SHA",
  versions: ["-tls1_2"],
});
after(() => {
  camellia.close();
  assertAllHostileClosed();
});

describe("probe: no cipher in common", () => {
  for (const mode of ["plain", "implicit"] as const) {
    test(`${mode === "plain" ? "STARTTLS" : "implicit"} port: names the suites it offers, weak ones as weak, fix on the server`, async () => {
      await withServer({ mode, tls: { upstreamPort: camellia.port } }, async (port) => {
        const { code, report } = await probeJson([`127.0.0.1:${port}`]);
        assert.equal(code, 1);
        assert.deepEqual(problemCodes(report), ["TLS_HANDSHAKE_FAILED"]);
        const f = finding(report, "TLS_HANDSHAKE_FAILED");
        assert.match(f.message, /offers no cipher in common with mailplan: it offers only TLSv1\.2 CAMELLIA(128|256)-SHA \(no forward secrecy, CBC with SHA-1, Camellia[^)]*\); TLSv1\.2 CAMELLIA(128|256)-SHA/);
        assert.match(f.fix!, /on the server: enable TLS 1\.2 or 1\.3 with ECDHE/);
        assert.deepEqual(report.ports[0].offer?.suites.map((s) => s.name).sort(), ["CAMELLIA128-SHA", "CAMELLIA256-SHA"]);
        assert.doesNotMatch(JSON.stringify(report), /SSLV3_ALERT_HANDSHAKE_FAILURE[^)]*"\s*,\s*"fix"/);
      });
    });
  }
});

describe("offer.ts units", () => {
  test("weaknesses in words", () => {
    assert.deepEqual(weaknesses("ECDHE-RSA-AES128-GCM-SHA256"), []);
    assert.deepEqual(weaknesses("AES128-SHA"), ["no forward secrecy", "CBC with SHA-1"]);
    assert.deepEqual(weaknesses("DES-CBC3-SHA"), ["no forward secrecy", "CBC with SHA-1", "3DES"]);
    assert.deepEqual(weaknesses("RC4-SHA"), ["no forward secrecy", "SHA-1/MD5 MAC", "RC4"]);
    assert.deepEqual(weaknesses("ECDHE-RSA-AES256-SHA"), ["CBC with SHA-1"]);
  });
  test("a ClientHello is one handshake record; a ServerHello and an alert are read", () => {
    const hello = clientHello([0x002f], "localhost");
    assert.equal(hello[0], 0x16);
    assert.equal(((hello[3] << 8) | hello[4]) + 5, hello.length);
    const sh = Uint8Array.from([0x16, 3, 3, 0, 42, 2, 0, 0, 38, 3, 3, ...Array(32).fill(0), 0, 0x00, 0x41, 0]);
    assert.deepEqual(serverAnswer(sh), { version: 0x0303, suite: 0x0041 });
    assert.deepEqual(serverAnswer(Uint8Array.from([0x15, 3, 3, 0, 2, 2, 40])), { alert: 40 });
    assert.equal(serverAnswer(Uint8Array.from([0x16, 3, 3, 0, 42])), null);
  });
});
