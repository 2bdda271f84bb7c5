/** Server text reaches the terminal only with control characters escaped (no raw ESC, NUL or BEL). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";
import { startHostile } from "./support/hostile-server.ts";

/** Where sends of this file keep undelivered mail: never the user's real outbox. */
const testOutbox = mkdtempSync(join(tmpdir(), "mailplan-test-outbox-"));

test("a hostile reply with ESC, BEL and NUL is printed escaped, in human output and in the transcript", async () => {
  const evil = "5.7.1 \x1b[2J\x1b]0;pwned\x07 go away\x00 now";
  const srv = await startHostile({ starttls: false, rules: [{ on: "MAIL", reply: `550 ${evil}` }] });
  try {
    const dir = mkdtempSync(join(tmpdir(), "mailplan-escape-"));
    writeFileSync(join(dir, "mail.yaml"), `version: 1
relays: { h: { host: 127.0.0.1, port: ${srv.port}, strategy: plain, security: { tls: none }, retry: { attempts: 1 } } }
routes: [{ name: r, via: [h] }]
`);
    let out = "", err = "";
    const code = await runCli(["send", "--config", join(dir, "mail.yaml"), "--from", "a@sender.example", "--to", "b@rcpt.example", "--subject", "s", "--text", "t", "--verbose", "--transcript", join(dir, "t.txt")], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: { MAILPLAN_OUTBOX: testOutbox },
    });
    assert.equal(code, 69);
    const printed = out + err;
    assert.match(err, /NOT SENT via route r: REJECTED \(phase mail\)/); // a failure goes to stderr
    assert.match(printed, /\\x1b\[2J\\x1b\]0;pwned\\x07 go away\\x00 now/);
    assert.doesNotMatch(printed, /[\x00\x07\x1b]/);
    assert.doesNotMatch(readFileSync(join(dir, "t.txt"), "utf8"), /[\x00\x07\x1b]/);
  } finally {
    await srv.close();
  }
});
