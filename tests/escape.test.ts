/** Server text reaches the terminal only with control characters escaped (no raw ESC, NUL or BEL). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";
import { startHostile } from "./support/hostile-server.ts";
import { escapeLines, escapeText, escapeTextCapped } from "../lib/text/escape.ts";
import { safeText } from "../lib/cli/io.ts";
import { escapeServerText } from "../lib/smtp/errors.ts";

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
    // deno-lint-ignore no-control-regex -- the test looks for raw control characters
    assert.doesNotMatch(printed, /[\x00\x07\x1b]/);
    // deno-lint-ignore no-control-regex -- the same, in the transcript file
    assert.doesNotMatch(readFileSync(join(dir, "t.txt"), "utf8"), /[\x00\x07\x1b]/);
  } finally {
    await srv.close();
  }
});

/** Every character a terminal acts on, or that reorders/splits what the reader sees. */
// deno-lint-ignore no-control-regex -- the test looks for raw control characters
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|\p{Surrogate}/u;

test("escapeText: each unsafe class becomes a visible escape naming the code point", () => {
  const rows: [string, string][] = [
    ["x\x1b]0;owned\x07\x1b[2J", "x\\x1b]0;owned\\x07\\x1b[2J"], // OSC title, BEL, clear screen
    ["nul\x00 tab\t cr\r lf\n", "nul\\x00 tab\\x09 cr\\x0d lf\\x0a"], // C0, newline included
    ["del\x7f c1\u0080\u009b\u009f", "del\\x7f c1\\x80\\x9b\\x9f"], // DEL, C1 (U+009B is CSI)
    ["a\u202ab\u202ec\u2066d\u2069e", "a\\u{202a}b\\u{202e}c\\u{2066}d\\u{2069}e"], // bidi embeddings, overrides, isolates
    ["\u200e\u200f\u061c", "\\u{200e}\\u{200f}\\u{61c}"], // LRM, RLM, ALM
    ["l\u2028p\u2029", "l\\u{2028}p\\u{2029}"], // line and paragraph separators
    ["\ufeffbom", "\\u{feff}bom"],
    ["lone\ud800 pair\ud83d\ude00", "lone\\u{d800} pair\ud83d\ude00"], // a lone surrogate, a valid emoji
    ["plain ASCII, äöü, 日本語, ש", "plain ASCII, äöü, 日本語, ש"], // printable text of every script passes
    ["C:\\path\\x1b", "C:\\path\\x1b"], // a backslash is kept (see the module header: idempotence)
  ];
  for (const [input, want] of rows) assert.equal(escapeText(input), want, JSON.stringify(input));
});

test("escapeText: no unsafe code point survives, for every code point of the BMP and a sample above", () => {
  const cps: number[] = [];
  for (let cp = 0; cp <= 0xffff; cp++) cps.push(cp);
  for (let cp = 0x10000; cp <= 0x10ffff; cp += 0x3f1) cps.push(cp);
  const all = cps.map((cp) => String.fromCharCode(...(cp > 0xffff ? [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)] : [cp]))).join("");
  assert.doesNotMatch(escapeText(all), UNSAFE);
  assert.doesNotMatch(escapeLines(all).replace(/\n/g, ""), UNSAFE);
});

test("escapeText is idempotent, so text escaped where a reply is quoted can be escaped again at output", () => {
  for (const s of ["x\x1b]0;owned\x07", "a\u202eb\n\u009b", "C:\\x1b\\u{202e}"]) {
    assert.equal(escapeText(escapeText(s)), escapeText(s));
    assert.equal(escapeLines(escapeLines(s)), escapeLines(s));
  }
});

test("escapeLines keeps LF only: CR, tab and every other control are escaped", () => {
  assert.equal(escapeLines("a\nb\r\n\tc\x1b[2J\u202e"), "a\nb\\x0d\n\\x09c\\x1b[2J\\u{202e}");
});

test("safeText and escapeServerText follow the same rules as escapeText; escapeServerText keeps its cap", () => {
  const s = "x\x1b]0;owned\x07\u009b\u202e\u2066\n";
  assert.equal(safeText(s), escapeText(s));
  assert.equal(escapeServerText(s), escapeText(s));
  assert.equal(escapeServerText("abcdef", 3), "abc…");
  assert.equal(escapeServerText("abc", 3), "abc");
  assert.equal(escapeTextCapped("\x1b\x1b\x1b", 2), "\\x1b\\x1b…");
  assert.equal(escapeServerText("😀😀😀", 2), "😀😀…"); // counted in code points, never split in a pair
});
