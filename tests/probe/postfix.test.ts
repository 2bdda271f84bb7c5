/**
 * `probe` against a real Postfix once: the real-world facts (CHUNKING, SMTPUTF8, DSN, AUTH only
 * after STARTTLS, implicit TLS on the wrapper-mode port), and the suggested blocks send.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type PostfixPeer, startPostfix } from "../peers/postfix.ts";
import { configFromSuggestion, probeJson, sendWith, tempDir } from "./helpers.ts";

let pfx: PostfixPeer;
before(async () => {
  pfx = await startPostfix();
});
after(async () => await pfx?.stop());

describe("probe against Postfix", () => {
  test("plain port: STARTTLS, Postfix's extensions, chain signed by its CA; the suggested block delivers", async () => {
    const { code, report } = await probeJson([`127.0.0.1:${pfx.ports.plain}`, "--ca", pfx.ca]);
    assert.equal(code, 0, JSON.stringify(report.problems, null, 2));
    const p = report.ports[0];
    assert.equal(p.mode, "plaintext");
    assert.match(p.greeting?.text ?? "", new RegExp(`test-${pfx.runId}`));
    assert.deepEqual(p.starttls, { offered: true, accepted: true });
    const s = p.service!;
    assert.equal(s.chunking, true);
    assert.equal(s.smtpUtf8, true);
    assert.equal(s.dsn, true);
    assert.equal(s.pipelining, true);
    assert.equal(s.eightBitMime, true);
    assert.equal(s.enhancedStatusCodes, true);
    assert.equal(s.requireTls, false);
    assert.ok(s.size !== null && s.size > 0);
    assert.match(p.tls?.version ?? "", /^TLSv1\.[23]$/);
    assert.equal(p.tls?.chain[0].subject, "CN=localhost");
    assert.equal(p.tls?.trust.ca?.trusted, true);
    assert.equal(p.tls?.name.matches, true);
    await sendWith(configFromSuggestion(report));
    const msgs = await pfx.readMaildir({ count: 1 });
    assert.ok(msgs.some((m) => new TextDecoder().decode(m.bytes).includes("sent with the YAML probe suggested")));
  });

  test("submission port: AUTH only after TLS; implicit port: detected as implicit; the relay's auth carries over and delivers", async () => {
    const sub = await probeJson([`127.0.0.1:${pfx.ports.starttls}`, "--ca", pfx.ca]);
    assert.equal(sub.code, 0, JSON.stringify(sub.report.problems, null, 2));
    const p = sub.report.ports[0];
    assert.equal(p.service?.authBeforeTls.length, 0, "Postfix (smtpd_tls_auth_only) offers no AUTH in clear");
    assert.ok(p.ehlo.addedByTls.some((l) => l.startsWith("AUTH ")), "AUTH appears after STARTTLS");
    assert.ok(p.service?.auth.includes("PLAIN"));

    const dir = tempDir();
    copyFileSync(pfx.ca, join(dir, "ca.pem"));
    const file = join(dir, "mail.yaml");
    writeFileSync(file, `version: 1\nrelays:\n  pf: { host: 127.0.0.1, port: ${pfx.ports.implicit}, strategy: implicit, security: { ca: ./ca.pem }, auth: { user: ${pfx.user}, password: { env: MAILPLAN_PROBE_PFX_PW } } }\nroutes:\n  - { name: all, via: [pf] }\n`);
    process.env.MAILPLAN_PROBE_PFX_PW = pfx.password;
    const imp = await probeJson(["--config", file, "--relay", "pf"]);
    assert.equal(imp.code, 0, JSON.stringify(imp.report.problems, null, 2));
    assert.equal(imp.report.ports[0].mode, "implicit");
    assert.match(imp.report.suggestion!.yaml, /strategy: implicit\n/);
    await sendWith(configFromSuggestion(imp.report, dir));
    await pfx.readMaildir({ count: 2 });
  });
});
