/**
 * `probe` against the hostile server's identities and modes: each case asserts the verdict's key
 * facts, checks the suggested relay block with `check`, and, where the server is sound, sends a
 * message through it with the engine.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { assertAllHostileClosed } from "../support/hostile-server.ts";
import { makePki } from "../support/certs.ts";
import { configFromSuggestion, finding, probeJson, probeText, problemCodes, sendWith, withServer } from "./helpers.ts";

const pki = makePki();
after(() => assertAllHostileClosed());

describe("probe against loopback servers", () => {
  test("plaintext port with STARTTLS: capabilities before and after TLS, chain, pin; the YAML sends", async () => {
    await withServer({ authBeforeTls: false }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 0, JSON.stringify(report.problems));
      assert.equal(report.ok, true);
      const p = report.ports[0];
      assert.equal(p.mode, "plaintext");
      assert.match(p.detail, /SMTP greeting after \d+ ms/);
      assert.deepEqual(p.starttls, { offered: true, accepted: true });
      assert.equal(p.greeting?.code, 220);
      assert.ok(p.ehlo.beforeTls?.includes("STARTTLS"));
      assert.ok(!p.ehlo.beforeTls?.some((l) => l.startsWith("AUTH")), "no AUTH before TLS");
      assert.ok(p.ehlo.addedByTls.includes("AUTH PLAIN LOGIN"), "AUTH appears after TLS");
      assert.deepEqual(p.ehlo.removedByTls, ["STARTTLS"]);
      assert.deepEqual(p.service?.auth, ["PLAIN", "LOGIN"]);
      assert.deepEqual(p.service?.authBeforeTls, []);
      assert.equal(p.service?.size, 10485760);
      assert.equal(p.service?.pipelining, true);
      const tls = p.tls!;
      assert.equal(tls.version, "TLSv1.3");
      assert.deepEqual(tls.accepts, { "TLSv1.3": true, "TLSv1.2": true });
      assert.equal(tls.chain.length, 2);
      assert.equal(tls.chain[0].subject, "CN=localhost");
      assert.equal(tls.chain[0].issuer, "CN=mailplan test intermediate CA");
      assert.ok(tls.chain[0].subjectAltNames.includes("IP Address:127.0.0.1"));
      assert.ok(tls.chain[0].daysLeft > 300);
      assert.equal(tls.pin, pki.leaf.pin, "the SPKI pin is openssl's");
      assert.equal(tls.chain[0].spkiPin, pki.leaf.pin);
      assert.deepEqual(tls.name, { checked: "127.0.0.1", matches: true });
      assert.equal(tls.trust.system.trusted, false);
      assert.equal(tls.trust.ca?.trusted, true);
      assert.equal(tls.chainProblem, null);
      finding(report, "CERT_SYSTEM_UNTRUSTED");
      const yaml = report.suggestion!.yaml;
      assert.match(yaml, /strategy: starttls\n/);
      assert.match(yaml, /tls: required\n/);
      assert.ok(yaml.includes(`ca: ${pki.root.cert.path}\n`));
      assert.ok(yaml.includes(`# pin: ${pki.leaf.pin}`));
      assert.match(yaml, /# auth: .*AUTH PLAIN LOGIN/);
      const sent = await sendWith(configFromSuggestion(report));
      assert.equal(sent.tls?.version, "TLSv1.3");
    });
  });

  test("implicit-TLS port: detected by waiting, then a TLS handshake on the same connection; the YAML sends", async () => {
    await withServer({ mode: "implicit" }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 0, JSON.stringify(report.problems));
      const p = report.ports[0];
      assert.equal(p.mode, "implicit");
      assert.match(p.detail, /no greeting within .*TLS ClientHello/);
      assert.equal(p.starttls, null);
      assert.equal(p.ehlo.beforeTls, null);
      assert.ok(p.ehlo.afterTls?.includes("AUTH PLAIN LOGIN"));
      assert.equal(p.greeting?.code, 220);
      assert.equal(p.tls?.trust.ca?.trusted, true);
      assert.match(report.suggestion!.yaml, /strategy: implicit\n/);
      await sendWith(configFromSuggestion(report));
    });
  });

  test("a port that offers no STARTTLS: the verdict says mail goes in clear; the YAML says so and sends", async () => {
    await withServer({ starttls: false }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["NO_TLS"]);
      const f = finding(report, "NO_TLS");
      assert.match(f.message, /does not offer STARTTLS/);
      assert.match(f.message, /in clear/);
      assert.match(f.message, /AUTH \(PLAIN LOGIN\) in clear/);
      assert.match(f.fix!, /Enable STARTTLS.*465/);
      assert.equal(report.ports[0].tls, null);
      assert.deepEqual(report.ports[0].starttls, { offered: false, accepted: null });
      assert.match(report.suggestion!.yaml, /strategy: plain\n {4}security:\n {6}tls: none {3}# this port offers no TLS/);
      await sendWith(configFromSuggestion(report)); // loopback: clear on purpose
    });
  });

  test("a TLS 1.2-only server: 1.3 refused in a separate handshake, noted; the YAML sends", async () => {
    await withServer({ mode: "implicit", tls: { maxVersion: "TLSv1.2" } }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 0, JSON.stringify(report.problems));
      const tls = report.ports[0].tls!;
      assert.equal(tls.version, "TLSv1.2");
      assert.deepEqual(tls.accepts, { "TLSv1.3": false, "TLSv1.2": true });
      assert.match(tls.cipher ?? "", /ECDHE/);
      assert.match(finding(report, "TLS13_UNAVAILABLE").message, /accepts TLS 1\.2 but not TLS 1\.3/);
      assert.doesNotMatch(report.suggestion!.yaml, /min_tls/);
      const sent = await sendWith(configFromSuggestion(report));
      assert.equal(sent.tls?.version, "TLSv1.2");
    });
  });

  test("self-signed: named as such, pin ready to paste; the YAML pins the key and sends", async () => {
    await withServer({ mode: "implicit", tls: { identity: "selfSigned" } }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_SELF_SIGNED"]);
      const f = finding(report, "CERT_SELF_SIGNED");
      assert.match(f.message, /self-signed certificate \(CN=localhost\)/);
      assert.ok(f.fix!.includes(`security.pin: ${pki.selfSigned.pin}`));
      const tls = report.ports[0].tls!;
      assert.equal(tls.chainProblem, "self-signed");
      assert.equal(tls.chain[0].selfSigned, true);
      assert.equal(tls.pin, pki.selfSigned.pin);
      const yaml = report.suggestion!.yaml;
      assert.ok(yaml.includes(`verify: false`));
      assert.ok(yaml.includes(`pin: ${pki.selfSigned.pin}\n`));
      await sendWith(configFromSuggestion(report));
    });
  });

  test("wrong host: what the certificate covers and the server_name to write", async () => {
    await withServer({ tls: { identity: "wrongHost" } }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_HOSTNAME_MISMATCH"]);
      const f = finding(report, "CERT_HOSTNAME_MISMATCH");
      assert.match(f.message, /does not cover "127\.0\.0\.1" \(it covers DNS:wrong\.example\)/);
      assert.match(f.fix!, /server_name: wrong\.example/);
      assert.deepEqual(report.ports[0].tls?.name, { checked: "127.0.0.1", matches: false });
      assert.equal(report.ports[0].tls?.trust.ca?.trusted, true, "the chain itself is fine");
      assert.match(report.suggestion!.yaml, /server_name: wrong\.example {3}# the certificate does not cover 127\.0\.0\.1/);
      configFromSuggestion(report);
    });
  });

  test("expired: the date, CERT_EXPIRED, the fix; the YAML passes check and says it will fail until renewed", async () => {
    await withServer({ tls: { identity: "expired" } }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_EXPIRED"]);
      const f = finding(report, "CERT_EXPIRED");
      assert.match(f.message, /expired on 2021-01-01 \(\d+ days ago\).*CERT_EXPIRED/);
      assert.match(f.fix!, /Renew the certificate/);
      const tls = report.ports[0].tls!;
      assert.equal(tls.chainProblem, "expired");
      assert.ok(tls.chain[0].daysLeft < 0);
      assert.equal(tls.trust.ca?.trusted, false);
      assert.match(tls.trust.ca?.reason ?? "", /expired on 2021-01-01/);
      assert.match(report.suggestion!.yaml, /# the certificate expired on 2021-01-01: sending fails with CERT_EXPIRED/);
      configFromSuggestion(report);
    });
  });

  test("missing intermediate: detected as such (only the leaf sent, issuer not a trust anchor)", async () => {
    await withServer({ mode: "implicit", tls: { identity: "leafOnly" } }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_MISSING_INTERMEDIATE"]);
      const f = finding(report, "CERT_MISSING_INTERMEDIATE");
      assert.match(f.message, /sends only its own certificate \(CN=localhost\), without the intermediate certificate of its issuer "CN=mailplan test intermediate CA": a missing intermediate/);
      assert.match(f.fix!, /full chain/);
      assert.equal(report.ports[0].tls?.chain.length, 1);
      assert.equal(report.ports[0].tls?.chainProblem, "missing-intermediate");
      assert.match(report.suggestion!.yaml, /# the server leaves out its intermediate certificate/);
      configFromSuggestion(report);
    });
  });

  test("leaf of a private root, no --ca: 'a private CA or a missing intermediate', never just 'missing intermediate'; with --ca: trusted", async () => {
    await withServer({ mode: "implicit", tls: { identity: "otherLeaf" } }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_UNTRUSTED"]);
      const f = finding(report, "CERT_UNTRUSTED");
      assert.match(f.message, /is not trusted by the system store: either "CN=mailplan unrelated CA" is a private CA \(give it with --ca \/ security\.ca\) or the server leaves out a missing intermediate certificate/);
      assert.match(f.fix!, /--ca FILE/);
      assert.equal(report.ports[0].tls?.chainProblem, "untrusted");
      const judged = await probeJson([`127.0.0.1:${port}`, "--ca", pki.otherCa.cert.path]);
      assert.equal(judged.code, 0, JSON.stringify(judged.report.problems));
      assert.equal(judged.report.ports[0].tls?.trust.ca?.trusted, true);
      assert.equal(judged.report.ports[0].tls?.chainProblem, null);
      assert.deepEqual(judged.report.notes.map((n) => n.code).filter((c) => c === "CERT_SYSTEM_UNTRUSTED"), ["CERT_SYSTEM_UNTRUSTED"]);
    });
  });

  test("silent after the handshake: no greeting is a problem, no YAML is suggested", async () => {
    await withServer({ mode: "tls-silent" }, async (port) => {
      const { code, report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      assert.equal(code, 1);
      assert.equal(report.ports[0].mode, "implicit");
      assert.match(finding(report, "TIMEOUT").message, /no SMTP greeting after the TLS handshake/);
      assert.equal(report.suggestion, null);
    });
  });

  test("a slow plaintext greeting that meets the ClientHello: recognised, the port re-opened in plaintext", async () => {
    // Greets only after the probe's ClientHello arrived: slower than any greeting wait, by an event.
    await withServer({ greeting: { reply: "220 slow.example ESMTP", afterClientBytes: true } }, async (port) => {
      const { report } = await probeJson([`127.0.0.1:${port}`, "--ca", pki.root.cert.path]);
      const p = report.ports[0];
      assert.equal(p.mode, "plaintext");
      assert.match(p.detail, /slow greeting/);
      assert.equal(p.starttls?.offered, true);
      assert.equal(p.tls?.version, "TLSv1.3");
    });
  });

  test("a port where nothing answers, neither SMTP nor TLS: SILENT_PORT", async () => {
    const held: import("node:net").Socket[] = [];
    const { createServer } = await import("node:net");
    const srv = createServer((s) => void held.push(s));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const port = (srv.address() as { port: number }).port;
      const { code, report } = await probeJson([`127.0.0.1:${port}`]);
      assert.equal(code, 1);
      assert.equal(report.ports[0].mode, "silent");
      assert.match(finding(report, "SILENT_PORT").message, /accepted the connection but no greeting within .* and no TLS handshake either/);
      assert.equal(report.suggestion, null);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  test("human output: facts, problems with their fixes, the YAML; server text is escaped", async () => {
    await withServer({ greeting: "220 evil\x1b[31m\x07 ESMTP", tls: { identity: "selfSigned" } }, async (port) => {
      const { code, out } = await probeText([`127.0.0.1:${port}`]);
      assert.equal(code, 1);
      assert.match(out, new RegExp(`Port ${port}: plaintext SMTP, STARTTLS offered`));
      assert.ok(out.includes("220 evil\\x1b[31m\\x07 ESMTP"));
      assert.ok(!out.includes("\x1b") && !out.includes("\x07"), "no raw ESC or BEL");
      assert.match(out, /ERROR +Port \d+ presents a self-signed certificate/);
      assert.match(out, /fix: Pin its key instead/);
      assert.match(out, /Suggested relay \(port \d+, starttls\)/);
      assert.match(out, /1 problem found\.\n$/);
    });
  });
});
