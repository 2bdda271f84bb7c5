/**
 * Threat row F9: every human output path is fed a hostile string (an OSC title change, BEL, a
 * clear-screen, a C1 CSI and a right-to-left override) and nothing of it may reach stdout or
 * stderr raw. Each test also asserts that the hostile text WAS printed, escaped — so a path that
 * silently stops printing the value cannot make the test pass.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";
import { enqueue } from "../lib/outbox/store.ts";
import { assertAllHostileClosed, startHostile } from "./support/hostile-server.ts";

after(() => assertAllHostileClosed());

/** The attacker's text: OSC 0 (window title) ended by BEL, ED (clear screen), C1 CSI, RLO. */
const HOSTILE = "x\x1b]0;owned\x07\x1b[2J\u009b\u202e";
/** The same text as YAML double-quoted escapes. */
const HOSTILE_YAML = String.raw`"x\e]0;owned\a\e[2J\x9b\u202e"`;
/** Any byte a terminal would act on, or a bidi control: none may be printed (newline excepted). */
// deno-lint-ignore no-control-regex -- the test looks for raw control characters
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

const dir = mkdtempSync(join(tmpdir(), "mailplan-escape-paths-"));
const outbox = mkdtempSync(join(tmpdir(), "mailplan-escape-paths-outbox-"));

async function run(argv: string[], env: Record<string, string> = {}) {
  let out = "", err = "";
  const code = await runCli(argv, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: { MAILPLAN_OUTBOX: outbox, NO_COLOR: "1", ...env },
  });
  return { code, out, err };
}

/** Fails on any raw control in `printed`, and unless the hostile text shows up escaped. */
function assertEscaped(printed: string, where: string, shown: RegExp = /owned/) {
  const m = RAW.exec(printed);
  assert.equal(m, null, `${where}: raw U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, "0")} in ${JSON.stringify(printed)}`);
  assert.match(printed, shown, `${where}: the hostile text was not shown at all: ${JSON.stringify(printed)}`);
}

function config(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test("check: an unknown key and a bad value (got \"…\") are printed escaped", async () => {
  const file = config("check.yaml", `version: 1
${HOSTILE_YAML}: 1
relays:
  r: { host: 127.0.0.1, port: ${HOSTILE_YAML}, strategy: plain, security: { tls: none } }
routes: [{ name: n, via: [r] }]
`);
  const r = await run(["check", "--config", file]);
  assert.equal(r.code, 78);
  assertEscaped(r.out + r.err, "check", /unknown key "x\\x1b\]0;owned\\x07\\x1b\[2J\\x9b\\u\{202e\}"/);
  assert.match(r.out, /\(got "x\\u001b\]0;owned\\u0007\\u001b\[2J\\x9b\\u\{202e\}"\)/);
});

test("plan and send with an invalid config: the problems on stderr are printed escaped", async () => {
  const file = config("invalid.yaml", `version: 1
relays: { r: { host: 127.0.0.1, port: 25, strategy: plain, security: { tls: none } } }
routes: [{ name: n, via: [r] }]
${HOSTILE_YAML}: 1
`);
  for (const argv of [["plan", "--config", file], ["send", "--config", file, "--from", "a@x.example", "--to", "b@x.example", "--subject", "s", "--text", "t"]]) {
    const r = await run(argv);
    assert.equal(r.code, 78, argv[0]);
    assertEscaped(r.out + r.err, argv[0]);
  }
});

test("plan: route and relay names cannot carry control characters (the schema refuses them), addresses are escaped", async () => {
  const file = config("plan.yaml", `version: 1
relays: { r: { host: 127.0.0.1, port: 25, strategy: plain, security: { tls: none } } }
routes: [{ name: n, via: [r] }]
`);
  const r = await run(["plan", "--config", file, "--from", `a${HOSTILE}@x.example`, "--to", "b@x.example"]);
  assertEscaped(r.out + r.err, "plan --from");
  const bidi = await run(["plan", "--config", file, "--from", "a@x.example", "--to", "b\u202e@x.example"]);
  assert.equal(bidi.code, 0);
  assertEscaped(bidi.out + bidi.err, "plan --to with U+202E", /to b\\u\{202e\}@x\.example/);
  const names = config("names.yaml", `version: 1
relays: { ${HOSTILE_YAML}: { host: 127.0.0.1, port: 25, strategy: plain, security: { tls: none } } }
routes: [{ name: ${HOSTILE_YAML}, via: [${HOSTILE_YAML}] }]
`);
  const n = await run(["plan", "--config", names]);
  assert.equal(n.code, 78);
  assertEscaped(n.out + n.err, "plan with hostile names");
});

test("usage errors quote the argument escaped (unknown command, outbox subcommand, probe --timeout)", async () => {
  for (const argv of [[HOSTILE], ["outbox", HOSTILE], ["probe", "127.0.0.1:25", "--timeout", HOSTILE]]) {
    const r = await run(argv);
    assert.equal(r.code, 64, argv.join(" "));
    assertEscaped(r.out + r.err, argv[0]);
  }
});

test("send: server text in the human result, --verbose and --transcript is escaped (success and failure)", async () => {
  // Replies as UTF-8 bytes (the hostile server's string replies are latin1), so U+009B and U+202E
  // arrive as the characters themselves.
  const utf8 = (line: string) => ({ reply: null, raw: new TextEncoder().encode(line + "\r\n") });
  const ok = await startHostile({ starttls: false, greeting: utf8(`220 ${HOSTILE}`), capabilities: ["PIPELINING", "8BITMIME", "SMTPUTF8"], rules: [{ on: ".", ...utf8(`250 queued ${HOSTILE}`) }] });
  const bad = await startHostile({ starttls: false, rules: [{ on: "MAIL", ...utf8(`550 5.7.1 ${HOSTILE}`) }] });
  try {
    for (const [srv, status] of [[ok, 0], [bad, 69]] as const) {
      const file = config(`send-${srv.port}.yaml`, `version: 1
relays: { h: { host: 127.0.0.1, port: ${srv.port}, strategy: plain, security: { tls: none }, retry: { attempts: 1 } } }
routes: [{ name: r, via: [h] }]
`);
      const transcript = join(dir, `t-${srv.port}.txt`);
      const human = await run(["send", "--config", file, "--from", "a@sender.example", "--to", status === 0 ? "b\u202e@rcpt.example" : "b@rcpt.example", "--subject", "s", "--text", "t", "--no-queue"]);
      assert.equal(human.code, status);
      assertEscaped(human.out + human.err, `send (${status})`, /owned\\x07\\x1b\[2J\\x9b\\u\{202e\}/);
      if (status === 0) assert.match(human.out, /accepted: b\\u\{202e\}@rcpt\.example/);
      const verbose = await run(["send", "--config", file, "--from", "a@sender.example", "--to", "b@rcpt.example", "--subject", "s", "--text", "t", "--no-queue", "--verbose", "--transcript", transcript]);
      assert.equal(verbose.code, status);
      assertEscaped(verbose.err, `send --verbose (${status})`, /<- (220|550).*owned\\x07\\x1b\[2J\\x9b\\u\{202e\}/);
      assertEscaped(readFileSync(transcript, "utf8"), `send --transcript (${status})`, /owned\\x07\\x1b\[2J\\x9b\\u\{202e\}/);
    }
  } finally {
    await ok.close();
    await bad.close();
  }
});

test("outbox list, flush and drop print addresses, subjects and errors escaped", async () => {
  const box = mkdtempSync(join(tmpdir(), "mailplan-escape-paths-box-"));
  const bytes = new TextEncoder().encode(`Subject: ${HOSTILE}\r\nFrom: a@x.example\r\n\r\nbody\r\n`);
  const id = await enqueue(box, {
    envelope: { from: `a${HOSTILE}@x.example`, recipients: [`b${HOSTILE}@x.example`] },
    message: { size: bytes.length, has8bit: true, needsSmtpUtf8: false, messageId: null, async *open() { yield bytes; } },
    reason: { code: "TEMPORARY_FAILURE", message: `451 ${HOSTILE}` },
    nextAttempt: new Date(Date.UTC(2100, 0, 1)),
  });
  const env = { MAILPLAN_OUTBOX: box };
  const list = await run(["outbox", "list"], env);
  assert.equal(list.code, 0);
  assertEscaped(list.out + list.err, "outbox list");
  const drop = await run(["outbox", "drop", id], env);
  assert.equal(drop.code, 0);
  assertEscaped(drop.out + drop.err, "outbox drop");
});

test("probe: a server whose greeting and EHLO carry the hostile text is reported escaped", async () => {
  const greeting = { reply: null, raw: new TextEncoder().encode(`220 ${HOSTILE}\r\n`) }; // UTF-8: U+009B, U+202E as such
  const srv = await startHostile({ starttls: false, greeting, capabilities: [`X-${HOSTILE}`] });
  try {
    const r = await run(["probe", `127.0.0.1:${srv.port}`, "--timeout", "20s"]);
    assertEscaped(r.out + r.err, "probe", /owned\\x07\\x1b\[2J\\x9b\\u\{202e\}/);
  } finally {
    await srv.close();
  }
});

test("demo: its paths (under a TMPDIR whose name carries control characters) are printed escaped", async () => {
  const evilTmp = join(mkdtempSync(join(tmpdir(), "mailplan-escape-paths-tmp-")), "t\x1b]0;owned\x07\u202e");
  mkdirSync(evilTmp);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = evilTmp;
  try {
    const r = await run(["demo"]);
    assert.equal(r.code, 0, r.err);
    assertEscaped(r.out + r.err, "demo", /t\\x1b\]0;owned\\x07\\u\{202e\}/);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
