/**
 * Certificate names (issue 8 §1, threats X1–X3): the hostile-certificate table of name-cases.ts
 * through (1) the one matcher, (2) the DER reader, (3) every adapter of this runtime (Deno
 * native: rustls decides itself; the row must still end the same way), (4) probe's verdict.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { isIP } from "node:net";
import type { Conn } from "../../lib/net/conn.ts";
import { availableAdapters, loadAdapter } from "../../lib/net/detect.ts";
import { certificateCovers, sanText } from "../../lib/net/names.ts";
import { NetError } from "../../lib/net/errors.ts";
import { pemToDer, subjectAltNamesFromDer } from "../../lib/net/x509.ts";
import { analyseChain } from "../../lib/probe/chain.ts";
import { makeNamedLeaf, makePki } from "../support/certs.ts";
import { NAME_CASES } from "./name-cases.ts";
import { startServer, type TestServer } from "./server.ts";

const pki = makePki();
const leafOf = (c: (typeof NAME_CASES)[number]) => makeNamedLeaf(c.sans);

describe("certificateCovers (RFC 6125 / RFC 9525)", () => {
  const dns = (name: string) => ({ type: "dns" as const, name });
  const ip = (...b: number[]) => ({ type: "ip" as const, bytes: Uint8Array.from(b) });
  const v6one = ip(...Array(15).fill(0), 1);
  const cases: [string, ReturnType<typeof dns | typeof ip>[], boolean][] = [
    ["mail.example.com", [dns("mail.example.com")], true],
    ["MAIL.Example.COM.", [dns("mail.example.com")], true],
    ["mail.example.com", [dns("MAIL.EXAMPLE.COM.")], true],
    ["a.relay.example.com", [dns("*.relay.example.com")], true],
    ["relay.example.com", [dns("*.relay.example.com")], false],
    ["a.b.relay.example.com", [dns("*.relay.example.com")], false],
    ["a.com", [dns("*.com")], false],
    ["a", [dns("*")], false],
    ["foo.example", [dns("f*.example")], false],
    ["foo.example", [dns("*o.example")], false],
    ["a.b.example", [dns("*.*.example")], false],
    ["localhost", [dns("evil.example, DNS:localhost")], false],
    ["localhost", [dns("localhost\u0000")], false],
    ["localhost", [dns("localhost ")], false],
    ["localhost", [dns("lo\u00e7alhost")], false],
    ["bücher.example", [dns("xn--bcher-kva.example")], true],
    ["xn--bcher-kva.example", [dns("xn--bcher-kva.example")], true],
    ["127.0.0.1", [dns("127.0.0.1")], false],
    ["127.0.0.1", [ip(127, 0, 0, 1)], true],
    ["127.0.0.2", [ip(127, 0, 0, 1)], false],
    ["::1", [v6one], true],
    ["[::1]", [v6one], true],
    ["0:0:0:0:0:0:0:1", [v6one], true],
    ["::ffff:127.0.0.1", [ip(127, 0, 0, 1)], false],
    ["localhost", [], false],
    ["", [dns("")], false],
  ];
  for (const [name, sans, want] of cases) {
    test(`${JSON.stringify(name)} vs ${sanText(sans).join(" | ") || "(none)"} → ${want}`, () => {
      assert.equal(certificateCovers(name, sans), want);
    });
  }
  for (const c of NAME_CASES) {
    test(`table ${c.id}: ${c.title} → ${c.covers}`, () => {
      const sans = subjectAltNamesFromDer(pemToDer(leafOf(c).cert.pem)[0]);
      assert.equal(sans.length, c.sans.length, "one entry per written name, never split");
      assert.equal(certificateCovers(c.name, sans), c.covers);
    });
  }
});

describe("subjectAltNamesFromDer", () => {
  test("reads typed entries; the text form quotes a hostile name as ONE entry", () => {
    const sans = subjectAltNamesFromDer(pemToDer(makeNamedLeaf([{ dns: "evil.example, DNS:localhost" }, { ip: "::1" }]).cert.pem)[0]);
    assert.deepEqual(sanText(sans), ['DNS:"evil.example, DNS:localhost"', "IP Address:::1"]);
    const leaf = subjectAltNamesFromDer(pemToDer(pki.leaf.cert.pem)[0]);
    assert.deepEqual(sanText(leaf), ["DNS:localhost", "IP Address:127.0.0.1", "IP Address:::1"]);
  });
  test("a NUL survives (and is shown escaped)", () => {
    const sans = subjectAltNamesFromDer(pemToDer(makeNamedLeaf([{ dns: "localhost\u0000.evil.example" }]).cert.pem)[0]);
    assert.deepEqual(sans, [{ type: "dns", name: "localhost\u0000.evil.example" }]);
    assert.deepEqual(sanText(sans), ['DNS:"localhost\\u0000.evil.example"']);
  });
  test("no extension: no entries", () => {
    assert.deepEqual(subjectAltNamesFromDer(pemToDer(pki.root.cert.pem)[0]), []);
  });
});

describe("probe name verdict: same table", () => {
  for (const c of NAME_CASES) {
    test(`${c.id}: ${c.title} → matches ${c.covers}`, () => {
      const leaf = leafOf(c);
      const a = analyseChain([...pemToDer(leaf.chain.pem)], {
        name: c.name,
        systemTrusted: false,
        systemError: null,
        ca: { pem: pki.root.cert.pem, file: pki.root.cert.path },
        now: new Date(),
      });
      assert.equal(a.name.matches, c.covers);
    });
  }
});

const dec = new TextDecoder();
async function firstLine(conn: Conn): Promise<string> {
  let text = "";
  while (!text.includes("\r\n")) {
    const chunk = await conn.read();
    if (chunk === null) throw new Error(`EOF after ${JSON.stringify(text)}`);
    text += dec.decode(chunk);
  }
  const i = text.indexOf("\r\n");
  if (i + 2 < text.length) conn.unread(new TextEncoder().encode(text.slice(i + 2)));
  return text.slice(0, i);
}

for (const adapterName of availableAdapters()) {
  describe(`certificate names on adapter ${adapterName}`, () => {
    const servers: TestServer[] = [];
    after(async () => {
      for (const s of servers) await s.close();
    });
    for (const c of NAME_CASES) {
      for (const mode of ["implicit", "starttls"] as const) {
        test(`${c.id} (${mode}): ${c.title} → ${c.covers ? "connects" : "CERT_HOSTNAME_MISMATCH"}`, async () => {
          const leaf = leafOf(c);
          const srv = await startServer({ mode, tls: { key: leaf.key.pem, cert: leaf.chain.pem } });
          servers.push(srv);
          const adapter = await loadAdapter(adapterName);
          const tls = { ca: pki.root.cert.pem, ...(isIP(c.name) ? {} : { serverName: c.name }) };
          let conn: Conn | null = null;
          let err: unknown = null;
          try {
            if (mode === "implicit") conn = await adapter.connect({ host: srv.host, port: srv.port, tls });
            else {
              conn = await adapter.connect({ host: srv.host, port: srv.port });
              assert.equal(await firstLine(conn), "220 ready");
              await conn.write(new TextEncoder().encode("STARTTLS\r\n"));
              assert.equal(await firstLine(conn), "220 go ahead");
              await conn.startTls(tls);
            }
            await conn.write(new TextEncoder().encode("PING\r\n"));
            if (mode === "implicit") assert.equal(await firstLine(conn), "220 ready");
            assert.equal(await firstLine(conn), "250 PONG tls");
          } catch (e) {
            err = e;
          } finally {
            conn?.close();
          }
          if (c.covers) {
            assert.equal(err, null, `must connect: ${err instanceof NetError ? `${err.code} ${err.message} (${err.detail})` : err}`);
          } else {
            assert.ok(err instanceof NetError, `must fail with CERT_HOSTNAME_MISMATCH, got ${err ?? "a connection"}`);
            assert.equal(err.code, "CERT_HOSTNAME_MISMATCH", `${err.message} (${err.detail})`);
            assert.deepEqual(srv.lines.filter((l) => l.startsWith("tls:")), [], "no byte after the handshake");
          }
        });
      }
    }
  });
}
