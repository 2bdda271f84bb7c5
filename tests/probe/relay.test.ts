/**
 * `probe --config FILE --relay NAME`: every contradiction between the relay and its server is
 * flagged with the error `send` would end with and the change to make; the suggested block is
 * the corrected relay (same name, ca relative to the config, auth kept) and sends.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { assertAllHostileClosed } from "../support/hostile-server.ts";
import { makePki } from "../support/certs.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { configFromSuggestion, finding, probeJson, problemCodes, sendWith, tempDir, withServer } from "./helpers.ts";

const pki = makePki();
after(() => assertAllHostileClosed());

/** A config dir with ca.pem (the test root) and other-ca.pem, and mail.yaml holding `relay`. */
function configWith(name: string, relay: string): { dir: string; file: string } {
  const dir = tempDir();
  copyFileSync(pki.root.cert.path, join(dir, "ca.pem"));
  copyFileSync(pki.otherCa.cert.path, join(dir, "other-ca.pem"));
  const file = join(dir, "mail.yaml");
  writeFileSync(file, `version: 1\nrelays:\n  ${name}: ${relay}\nroutes:\n  - { name: all, via: [${name}] }\n`);
  return { dir, file };
}

/** What `send` does with the relay as configured (to show the prediction holds). */
async function sendAsConfigured(file: string) {
  const loaded = parseConfig(readFileSync(file, "utf8"), file);
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  const tx = planEnvelope(loaded.config, { from: "a@example.test", to: ["b@example.test"] }).transactions[0];
  return await deliver(tx, messageFromBytes(new TextEncoder().encode("Subject: x\r\n\r\nx\r\n")), { baseDir: dirname(file) });
}

describe("probe --config --relay: contradictions", () => {
  test("strategy: implicit on a plaintext STARTTLS port: the 'wrong version number' sentence and its fix", async () => {
    await withServer({}, async (port) => {
      const { file, dir } = configWith("gmail", `{ host: 127.0.0.1, port: ${port}, strategy: implicit, security: { ca: ./ca.pem } }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "gmail"]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["TLS_MODE_MISMATCH"]);
      const f = finding(report, "TLS_MODE_MISMATCH");
      assert.equal(f.message, `Port ${port} speaks plaintext SMTP and offers STARTTLS, but relay \`gmail\` says strategy: implicit. That is the 'wrong version number' error.`);
      assert.equal(f.fix, "Use strategy: starttls, or port 465.");
      assert.equal(report.relay?.strategy, "implicit");
      assert.equal(report.relay?.name, "gmail");
      assert.equal(report.host, "127.0.0.1");
      const yaml = report.suggestion!.yaml;
      assert.match(yaml, /^relays:\n {2}gmail:\n/);
      assert.match(yaml, /strategy: starttls\n/);
      assert.match(yaml, /ca: \.\/ca\.pem\n/);
      await sendWith(configFromSuggestion(report, dir));
    });
  });

  test("strategy: starttls on an implicit-TLS port: it would hang until the greeting timeout", async () => {
    await withServer({ mode: "implicit" }, async (port) => {
      const { file } = configWith("sub", `{ host: 127.0.0.1, port: ${port}, strategy: starttls, security: { ca: ./ca.pem } }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "sub"]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["TLS_MODE_MISMATCH"]);
      const f = finding(report, "TLS_MODE_MISMATCH");
      assert.match(f.message, new RegExp(`^Port ${port} expects TLS from the first byte, but relay \`sub\` says strategy: starttls\\. .*greeting timeout`));
      assert.equal(f.fix, "Use strategy: implicit, or port 587.");
      assert.match(report.suggestion!.yaml, /strategy: implicit\n/);
    });
  });

  test("wrong ca: the chain does not lead to the relay's security.ca, and send agrees (CERT_UNTRUSTED)", async () => {
    await withServer({ mode: "implicit" }, async (port) => {
      const { file, dir } = configWith("corp", `{ host: 127.0.0.1, port: ${port}, strategy: implicit, security: { ca: ./other-ca.pem } }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "corp"]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_UNTRUSTED"]);
      const f = finding(report, "CERT_UNTRUSTED");
      assert.match(f.message, /does not chain to the CA in relay `corp`'s security\.ca \(\.\/other-ca\.pem\).*CERT_UNTRUSTED/);
      assert.match(f.fix!, /Point security\.ca at the CA .*CN=mailplan test root CA/);
      assert.equal(report.ports[0].tls?.trust.ca?.trusted, false);
      assert.match(report.suggestion!.yaml, /# ca: \.\/ca\.pem {3}# \.\/other-ca\.pem does not vouch for this server/);
      configFromSuggestion(report, dir);
      const sent = await sendAsConfigured(file);
      assert.equal(sent.error?.code, "CERT_UNTRUSTED", "send fails the way probe said");
    });
  });

  test("pin mismatch: the observed pin to paste, and send agrees (CERT_PIN_MISMATCH)", async () => {
    await withServer({ mode: "implicit" }, async (port) => {
      const { file, dir } = configWith("pinned", `{ host: 127.0.0.1, port: ${port}, strategy: implicit, security: { ca: ./ca.pem, pin: "${pki.otherLeaf.pin}" } }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "pinned"]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["CERT_PIN_MISMATCH"]);
      const f = finding(report, "CERT_PIN_MISMATCH");
      assert.ok(f.message.includes(`is ${pki.leaf.pin}, but relay \`pinned\` pins ${pki.otherLeaf.pin}`));
      assert.ok(f.fix!.includes(`security.pin: ${pki.leaf.pin}`));
      assert.ok(report.suggestion!.yaml.includes(`pin: ${pki.leaf.pin}   # was ${pki.otherLeaf.pin}`));
      assert.equal((await sendAsConfigured(file)).error?.code, "CERT_PIN_MISMATCH");
      await sendWith(configFromSuggestion(report, dir));
    });
  });

  test("TLS required but no STARTTLS offered: STARTTLS_UNAVAILABLE", async () => {
    await withServer({ starttls: false }, async (port) => {
      const { file } = configWith("old", `{ host: 127.0.0.1, port: ${port}, strategy: starttls }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "old"]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report).sort(), ["NO_TLS", "STARTTLS_UNAVAILABLE"]);
      assert.match(finding(report, "STARTTLS_UNAVAILABLE").message, /does not offer STARTTLS, but relay `old` requires TLS/);
    });
  });

  test('min_tls: "1.3" against a TLS 1.2-only server: TLS_VERSION_TOO_LOW', async () => {
    await withServer({ mode: "implicit", tls: { maxVersion: "TLSv1.2" } }, async (port) => {
      const { file } = configWith("strict", `{ host: 127.0.0.1, port: ${port}, strategy: implicit, security: { ca: ./ca.pem, min_tls: "1.3" } }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "strict"]);
      assert.equal(code, 1);
      assert.deepEqual(problemCodes(report), ["TLS_VERSION_TOO_LOW"]);
      assert.match(finding(report, "TLS_VERSION_TOO_LOW").fix!, /min_tls: "1\.2"/);
      assert.doesNotMatch(report.suggestion!.yaml, /min_tls/);
    });
  });

  test("a relay that matches its server: no problem, the block keeps name, ca, server_name and auth, and sends", async () => {
    process.env.PROBE_TEST_PW = "s3cret-pass"; // the hostile server's default password
    await withServer({ authBeforeTls: false }, async (port) => {
      const { file, dir } = configWith("good", `{ host: 127.0.0.1, port: ${port}, strategy: starttls, security: { ca: ./ca.pem, server_name: localhost }, auth: { user: me, password: { env: PROBE_TEST_PW } } }`);
      const { code, report } = await probeJson(["--config", file, "--relay", "good"]);
      assert.equal(code, 0, JSON.stringify(report.problems));
      assert.equal(report.name, "localhost");
      assert.deepEqual(report.relay?.auth, { mechanism: "auto" });
      const yaml = report.suggestion!.yaml;
      assert.match(yaml, /server_name: localhost\n/);
      assert.match(yaml, /auth:\n {6}user: me\n {6}password: \{ env: PROBE_TEST_PW \}\n/);
      const sent = await sendWith(configFromSuggestion(report, dir));
      assert.deepEqual(sent.accepted, ["inbox@example.test"]);
    });
  });
});
