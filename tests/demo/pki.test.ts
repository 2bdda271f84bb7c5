/**
 * The in-memory demo PKI, checked by an independent implementation (the `openssl` CLI, present on
 * developer and CI machines; the demo itself never runs it) and by real TLS handshakes.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { type DemoPki, generateDemoPki } from "../../lib/demo/pki.ts";

const dir = mkdtempSync(join(tmpdir(), "mailplan-demo-pki-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function files(pki: DemoPki) {
  const paths = { ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  writeFileSync(paths.ca, pki.ca);
  writeFileSync(paths.cert, pki.cert);
  writeFileSync(paths.key, pki.key);
  return paths;
}

function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync("openssl", args, { input, encoding: "latin1", stdio: ["pipe", "pipe", "pipe"] });
}

const generatedAt = new Date(); // injected, so the check below does not depend on how long the tests take
const pki = generateDemoPki({ now: generatedAt });
const paths = files(pki);

describe("demo PKI (openssl as the judge)", () => {
  test("the server certificate verifies against the CA, strictly, for TLS server use", () => {
    const out = openssl(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", paths.ca, paths.cert]);
    assert.match(out, /: OK/);
  });

  test("the server certificate is for localhost and 127.0.0.1, CA:FALSE, serverAuth", () => {
    const text = openssl(["x509", "-in", paths.cert, "-noout", "-text"]);
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature\n/);
    assert.match(text, /Extended Key Usage: \s*\n\s+TLS Web Server Authentication\n/);
    assert.match(text, /Subject Alternative Name: \s*\n\s+DNS:localhost, IP Address:127\.0\.0\.1\n/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /NIST CURVE: P-256/);
    openssl(["x509", "-in", paths.cert, "-noout", "-checkhost", "localhost"]);
    assert.match(openssl(["x509", "-in", paths.cert, "-noout", "-checkip", "127.0.0.1"]), /does match/);
    assert.match(
      openssl(["x509", "-in", paths.cert, "-noout", "-checkhost", "example.com"]),
      /does NOT match/,
    );
  });

  test("the CA is a CA with pathlen 0 and may sign certificates; its key identifiers chain", () => {
    const ca = openssl(["x509", "-in", paths.ca, "-noout", "-text"]);
    assert.match(ca, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(ca, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(openssl(["verify", "-x509_strict", "-CAfile", paths.ca, paths.ca]), /: OK/);
    const ski = /Subject Key Identifier: \s*\n\s+([0-9A-F:]+)/.exec(ca)![1];
    const leaf = openssl(["x509", "-in", paths.cert, "-noout", "-text"]);
    assert.equal(/Authority Key Identifier: \s*\n\s+(?:keyid:)?([0-9A-F:]+)/.exec(leaf)![1], ski);
    assert.equal(
      openssl(["x509", "-in", paths.cert, "-noout", "-issuer"]).replace("issuer=", ""),
      openssl(["x509", "-in", paths.ca, "-noout", "-subject"]).replace("subject=", ""),
    );
  });

  test("the certificates are valid now, from an hour ago, for seven days", () => {
    for (const p of [paths.ca, paths.cert]) {
      openssl(["x509", "-in", p, "-noout", "-checkend", "0"]); // throws (exit 1) if expired
      assert.match(openssl(["x509", "-in", p, "-noout", "-checkend", String(6 * 86400)]), /will not expire/);
      assert.throws(() => openssl(["x509", "-in", p, "-noout", "-checkend", String(8 * 86400)])); // exit 1: will expire
    }
    assert.equal(pki.notBefore.getTime(), generatedAt.getTime() - 3600_000, "notBefore is one hour before generation");
  });

  test("the key matches the certificate and the pin is openssl's SPKI SHA-256", () => {
    const fromCert = openssl(["x509", "-in", paths.cert, "-noout", "-pubkey"]);
    const fromKey = openssl(["pkey", "-in", paths.key, "-pubout"]);
    assert.equal(fromCert, fromKey);
    const der = Buffer.from(openssl(["pkey", "-pubin", "-outform", "DER"], Buffer.from(fromCert)), "latin1");
    const digest = Buffer.from(openssl(["dgst", "-sha256", "-binary"], der), "latin1");
    assert.equal(pki.pin, "sha256/" + digest.toString("base64"));
    assert.match(pki.pin, /^sha256\/[A-Za-z0-9+/]{43}=$/);
  });

  test("every DER structure parses strictly (no trailing bytes, definite lengths)", () => {
    for (const p of [paths.ca, paths.cert]) {
      const out = openssl(["asn1parse", "-in", p, "-i"]);
      assert.doesNotMatch(out, /error|Error/);
      assert.match(out, /prime256v1/);
    }
  });

  test("each call makes a new CA, a new key and new serials", () => {
    const other = generateDemoPki();
    assert.notEqual(other.ca, pki.ca);
    assert.notEqual(other.pin, pki.pin);
    assert.notEqual(other.key, pki.key);
    const p2 = join(dir, "other-cert.pem");
    writeFileSync(p2, other.cert);
    assert.throws(() => openssl(["verify", "-CAfile", paths.ca, p2])); // not signed by the first CA
  });

  test("other names and a far date (GeneralizedTime after 2049) are encoded correctly", () => {
    const far = generateDemoPki({
      dns: ["mx.test", "a.test"],
      ip: ["10.1.2.3"],
      now: new Date("2060-05-01T00:00:00Z"),
      days: 1,
    });
    const p = files(far);
    const text = openssl(["x509", "-in", p.cert, "-noout", "-text"]);
    assert.match(text, /DNS:mx\.test, DNS:a\.test, IP Address:10\.1\.2\.3/);
    assert.match(text, /Not After : May {2}2 00:00:00 2060 GMT/);
    assert.match(
      openssl([
        "verify",
        "-attime",
        String(Date.parse("2060-05-01T12:00:00Z") / 1000),
        "-CAfile",
        p.ca,
        p.cert,
      ]),
      /OK/,
    );
    assert.throws(() => generateDemoPki({ ip: ["::1"] }), /not an IPv4 address/);
    files(pki); // restore the shared files for any later test
  });
});

describe("demo PKI in real TLS handshakes (node:tls server and client, this runtime)", () => {
  async function handshake(
    client: tls.ConnectionOptions,
  ): Promise<{ authorized: boolean; error?: string; protocol?: string | null }> {
    const server = tls.createServer({ key: pki.key, cert: pki.cert }, (s) => s.end("hi\r\n"));
    server.on("tlsClientError", () => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      return await new Promise((resolve) => {
        const s = tls.connect({ host: "127.0.0.1", port, ...client });
        s.once("secureConnect", () => {
          resolve({
            authorized: s.authorized,
            error: s.authorizationError?.toString(),
            protocol: s.getProtocol(),
          });
          s.destroy();
        });
        s.once(
          "error",
          (e: Error & { code?: string }) => resolve({ authorized: false, error: e.code ?? e.message }),
        );
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  test("trusted by name (localhost) with the CA as `ca`", async () => {
    const r = await handshake({ ca: pki.ca, servername: "localhost" });
    assert.equal(r.authorized, true, r.error ?? "");
    assert.match(r.protocol ?? "", /^TLSv1\.[23]$/);
  });

  test("trusted by IP (127.0.0.1, no SNI)", async () => {
    const r = await handshake({ ca: pki.ca });
    assert.equal(r.authorized, true, r.error ?? "");
  });

  test("TLS 1.2 works too", async () => {
    const r = await handshake({ ca: pki.ca, servername: "localhost", maxVersion: "TLSv1.2" });
    assert.equal(r.authorized, true, r.error ?? "");
    assert.equal(r.protocol, "TLSv1.2");
  });

  test("refused without the CA, and for a name it does not cover", async () => {
    assert.equal((await handshake({ servername: "localhost" })).authorized, false);
    assert.equal((await handshake({ ca: pki.ca, servername: "example.com" })).authorized, false);
    assert.equal((await handshake({ ca: generateDemoPki().ca, servername: "localhost" })).authorized, false);
  });
});

describe("demo PKI with the runtime's native TLS client (the strictest verifiers)", () => {
  async function withServer<T>(fn: (port: number) => Promise<T>): Promise<T> {
    const server = tls.createServer({ key: pki.key, cert: pki.cert }, (s) => s.end("hi\r\n"));
    server.on("tlsClientError", () => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      return await fn((server.address() as { port: number }).port);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }

  if ("Deno" in globalThis) {
    test("Deno.connectTls (rustls/webpki) trusts it for localhost, not without the CA", async () => {
      await withServer(async (port) => {
        const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [pki.ca] });
        const buf = new Uint8Array(16);
        const n = await conn.read(buf);
        assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "hi\r\n");
        conn.close();
        await assert.rejects(async () => {
          const bad = await Deno.connectTls({ hostname: "localhost", port });
          try {
            await bad.read(buf);
          } finally {
            bad.close();
          }
        }, /invalid peer certificate/);
      });
    });
  }

  interface BunSocket {
    authorized: boolean;
    end(): void;
  }
  const bun = (globalThis as { Bun?: { connect(o: unknown): Promise<BunSocket> } }).Bun;
  if (bun) {
    test("Bun.connect (BoringSSL) trusts it for localhost, not for another name", async () => {
      await withServer(async (port) => {
        const verdict = (serverName: string) =>
          new Promise<boolean>((resolve, reject) => {
            bun.connect({
              hostname: "127.0.0.1",
              port,
              tls: { ca: pki.ca, serverName },
              socket: {
                data() {},
                handshake(s: BunSocket, _ok: boolean, err: Error | null) {
                  resolve(s.authorized && !err);
                  s.end();
                },
                error: reject,
              },
            }).catch(reject);
          });
        assert.equal(await verdict("localhost"), true);
        assert.equal(await verdict("example.com"), false);
      });
    });
  }
});
