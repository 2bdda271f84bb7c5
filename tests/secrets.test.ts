/**
 * A known password never appears — raw, in base64, or inside a PLAIN/LOGIN blob — in stdout,
 * stderr, the transcript, the outbox files or the error text, whatever the server does with it:
 * accepted, refused, or asked for again after AUTH and the message queued.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";
import { containsCredential, type Rule, startHostile } from "./support/hostile-server.ts";

const PASSWORD = "s3cret-pass"; // the hostile server's default credential

const scenarios: [string, Rule[], string, number][] = [
  ["accepted", [], "PLAIN", 0],
  ["accepted with LOGIN", [], "LOGIN", 0],
  ["credentials refused", [{ on: "AUTH", reply: "535 5.7.8 Authentication credentials invalid" }], "PLAIN", 77],
  ["queued after AUTH (451 on MAIL)", [{ on: "MAIL", reply: "451 4.3.0 try later" }], "PLAIN", 75],
  ["server echoes the blob back in an error", [{ on: "AUTH", reply: "535 5.7.8 bad AHRlc3RlcgBzM2NyZXQtcGFzcw==" }], "PLAIN", 77],
];

for (const [name, rules, mechanism, exit] of scenarios) {
  test(`secrets stay secret: ${name}`, async () => {
    const srv = await startHostile({ starttls: false, authBeforeTls: true, rules });
    try {
      const dir = mkdtempSync(join(tmpdir(), "mailplan-secrets-"));
      writeFileSync(join(dir, "pw"), PASSWORD + "\n");
      writeFileSync(join(dir, "mail.yaml"), `version: 1
outbox: ./outbox
relays:
  h:
    host: 127.0.0.1
    port: ${srv.port}
    strategy: plain
    security: { tls: none }
    retry: { attempts: 1 }
    auth: { mechanism: ${mechanism.toLowerCase()}, user: me, password: { file: ./pw } }
routes: [{ name: r, via: [h] }]
`);
      const outputs: string[] = [];
      for (const json of [[], ["--json"]]) {
        let out = "", err = "";
        const code = await runCli(["send", "--config", join(dir, "mail.yaml"), "--from", "a@sender.example", "--to", "b@rcpt.example", "--subject", "s", "--text", "t", "--verbose", "--transcript", join(dir, "t.txt"), ...json], {
          out: (t) => void (out += t),
          err: (t) => void (err += t),
          env: {},
        });
        assert.equal(code, exit, out + err);
        outputs.push(out, err, readFileSync(join(dir, "t.txt"), "latin1"));
      }
      assert.ok(srv.sawAuth(), "the scenario really authenticated");
      const outbox = join(dir, "outbox");
      let files: string[] = [];
      try {
        files = readdirSync(outbox);
      } catch { /* no outbox folder: nothing queued */ }
      if (exit === 75) assert.ok(files.some((f) => f.endsWith(".json")), "the queued case has outbox files to check");
      for (const f of files) outputs.push(readFileSync(join(outbox, f), "latin1"));
      for (const text of outputs) assert.ok(!containsCredential(text, PASSWORD), `the password leaked:\n${text}`);
    } finally {
      await srv.close();
    }
  });
}
