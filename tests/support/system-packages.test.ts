/**
 * `npm test` on a fresh machine brings its peers (issue 9): the decision (install with apt-get
 * when root, else stop with one line naming the command) and the end-to-end behaviour of
 * tests/run-all.mjs when a package is missing and we are not root.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
// @ts-types="./system-packages.d.mts"
import { decide, PACKAGES, postfixTestFiles, runsPostfix } from "./system-packages.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("decide: nothing missing → go on; root with apt-get → install, one line; otherwise stop with the command", () => {
  assert.deepEqual(decide({ missing: [], root: false, aptGet: false, postfixOnly: true }), { action: "ok" });
  assert.deepEqual(decide({ missing: ["postfix", "sasl2-bin"], root: true, aptGet: true, postfixOnly: true }), {
    action: "install",
    packages: ["postfix", "sasl2-bin"],
    line: "installing postfix sasl2-bin with apt-get (the Postfix tests need them)",
  });
  assert.deepEqual(decide({ missing: ["postfix"], root: false, aptGet: true, postfixOnly: true }), {
    action: "stop",
    line: "missing system packages postfix (the Postfix tests need them): run: sudo apt-get install -y postfix, then npm test again",
  });
  const noApt = decide({ missing: ["openssl"], root: true, aptGet: false, postfixOnly: false });
  assert.equal(noApt.action, "stop");
  assert.match((noApt as { line: string }).line, /^missing system packages openssl \(the tests need them\): install openssl with your system's package manager/);
});

test("one list of packages; the Postfix ones are needed only when a Postfix test file runs", () => {
  assert.deepEqual(PACKAGES.map((p: { pkg: string }) => p.pkg), ["postfix", "sasl2-bin", "libsasl2-modules", "openssl", "bsd-mailx", "git-email"]);
  const files = postfixTestFiles(root);
  assert.ok(files.includes("tests/peers/peers.test.ts"), files.join(", "));
  assert.equal(runsPostfix(root, []), true);
  assert.equal(runsPostfix(root, ["tests/peers"]), true);
  assert.equal(runsPostfix(root, ["tests/peers/peers.test.ts"]), true);
  assert.equal(runsPostfix(root, ["tests/escape.test.ts", "tests/smtp"]), false);
});

test("run-all.mjs without a package and without root stops at once: one line on stderr naming the command, no test run", () => {
  const r = spawnSync("node", ["tests/run-all.mjs", "tests/peers/peers.test.ts"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, MAILPLAN_TEST_PRETEND_MISSING: "postfix,sasl2-bin", MAILPLAN_TEST_PRETEND_NOT_ROOT: "1" },
  });
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.deepEqual(r.stderr.trimEnd().split("\n"), [
    "missing system packages postfix sasl2-bin (the Postfix tests need them): run: sudo apt-get install -y postfix sasl2-bin, then npm test again",
  ]);
});
