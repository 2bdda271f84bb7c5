/**
 * sendmail's reading of stdin, without the network: the header section (Bcc removed, From/Date/
 * Message-ID added), the lone-dot terminator (with and without -i) at every chunk boundary, the
 * address lists of To/Cc/Bcc (groups, quoted names with commas, comments), and %u/%h in sendmail.from.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fieldValue, type HeaderField, MAX_HEADER, SubmissionReader } from "../../lib/message/header-read.ts";
import { headerAddresses } from "../../lib/message/header-addresses.ts";
import { expandFrom, type HeaderPolicy, resolveAlias, rewriteHeader } from "../../lib/cli/sendmail-header.ts";
import { MailplanError } from "../../lib/codes.ts";
import { Buffer } from "node:buffer";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (parts: Uint8Array[]) => new TextDecoder().decode(Buffer.concat(parts));

/** Runs the reader over `input` cut into chunks of `size` bytes; returns the output and how it ended. */
function read(input: string | Uint8Array, opts: { ignoreDots?: boolean; size?: number; rewrite?: (f: HeaderField[]) => HeaderField[] } = {}) {
  const bytes = typeof input === "string" ? enc(input) : input;
  const r = new SubmissionReader({ ignoreDots: opts.ignoreDots ?? false, rewrite: opts.rewrite ?? ((f) => f) });
  const out: Uint8Array[] = [];
  const size = opts.size ?? bytes.length;
  for (let i = 0; i < bytes.length && !r.ended; i += size) out.push(...r.push(bytes.slice(i, i + size)));
  out.push(...r.end());
  return { text: dec(out), ended: r.ended };
}

/** Same result whatever the chunking: whole, byte by byte, and in 3-byte chunks. */
function readEvery(input: string, opts: { ignoreDots?: boolean } = {}) {
  const whole = read(input, opts);
  for (const size of [1, 2, 3, 7]) assert.deepEqual(read(input, { ...opts, size }), whole, `chunk size ${size}`);
  return whole;
}

describe("SubmissionReader", () => {
  const table: [string, string, boolean, string, "eof" | "dot"][] = [
    ["header and body, LF", "To: a@x\nSubject: s\n\nbody\n", false, "To: a@x\r\nSubject: s\r\n\r\nbody\n", "eof"],
    ["CRLF kept", "To: a@x\r\n\r\nbody\r\n", false, "To: a@x\r\n\r\nbody\r\n", "eof"],
    ["bare CR line endings in the header", "To: a@x\rSubject: s\r\rbody\r", false, "To: a@x\r\nSubject: s\r\n\r\nbody\r", "eof"],
    ["folded field kept folded", "To: a@x,\n  b@y\n\nb\n", false, "To: a@x,\r\n  b@y\r\n\r\nb\n", "eof"],
    ["lone dot ends the message", "To: a@x\n\nline 1\n.\nafter the dot\n", false, "To: a@x\r\n\r\nline 1\n", "dot"],
    ["lone dot with CRLF", "To: a@x\r\n\r\nline 1\r\n.\r\nafter\r\n", false, "To: a@x\r\n\r\nline 1\r\n", "dot"],
    ["lone dot at EOF without a line break", "To: a@x\n\nline 1\n.", false, "To: a@x\r\n\r\nline 1\n", "dot"],
    ["dot lines that are not alone are kept", "To: a@x\n\n.hidden\n..\n. \nend\n", false, "To: a@x\r\n\r\n.hidden\n..\n. \nend\n", "eof"],
    ["with -i the lone dot is content", "To: a@x\n\nline 1\n.\nafter\n", true, "To: a@x\r\n\r\nline 1\n.\nafter\n", "eof"],
    ["lone dot as the first body line", "To: a@x\n\n.\nrest\n", false, "To: a@x\r\n\r\n", "dot"],
    ["lone dot inside the header ends it", "To: a@x\n.\nrest\n", false, "To: a@x\r\n\r\n", "dot"],
    ["no header at all: all body", "hello there\nsecond line\n", false, "\r\nhello there\r\nsecond line\n", "eof"],
    ["a non-header line ends the header", "To: a@x\nthis is text\nmore\n", false, "To: a@x\r\n\r\nthis is text\r\nmore\n", "eof"],
    ["header only, no empty line", "To: a@x\nSubject: s\n", false, "To: a@x\r\nSubject: s\r\n\r\n", "eof"],
    ["header only, no final line break", "To: a@x", false, "To: a@x\r\n\r\n", "eof"],
    ["empty input", "", false, "\r\n", "eof"],
    ["mbox From_ line dropped", "From me@x Mon Jan  1 00:00:00 2024\nTo: a@x\n\nb\n", false, "To: a@x\r\n\r\nb\n", "eof"],
    ["CRLF split after the header's CR", "To: a@x\r\n\r\n\nbody", false, "To: a@x\r\n\r\n\nbody", "eof"],
  ];
  for (const [name, input, ignoreDots, want, ended] of table) {
    test(name, () => assert.deepEqual(readEvery(input, { ignoreDots }), { text: want, ended }));
  }

  test("8-bit bytes that are not UTF-8 pass through unchanged (header and body)", () => {
    const input = new Uint8Array([...enc("Subject: caf"), 0xe9, 0x0a, 0x0a, 0x62, 0xff, 0x0a]);
    const r = new SubmissionReader({ ignoreDots: false, rewrite: (f) => f });
    const out = Buffer.concat([...r.push(input), ...r.end()]);
    assert.deepEqual([...out], [...enc("Subject: caf"), 0xe9, 0x0d, 0x0a, 0x0d, 0x0a, 0x62, 0xff, 0x0a]);
  });

  test("the rewrite step sees the fields and may drop and add", () => {
    const r = read("To: a@x\nBcc: secret@y\nSubject: s\n\nbody\n", {
      rewrite: (f) => [...f.filter((x) => x.name.toLowerCase() !== "bcc"), { name: "X-Added", lines: [enc("X-Added: yes")] }],
    });
    assert.equal(r.text, "To: a@x\r\nSubject: s\r\nX-Added: yes\r\n\r\nbody\n");
  });

  test("a header section over the cap is MESSAGE_INVALID, not unbounded memory", () => {
    const r = new SubmissionReader({ ignoreDots: true, rewrite: (f) => f });
    const line = enc(`X-Filler: ${"a".repeat(1000)}\n`);
    assert.throws(() => {
      for (let n = 0; n <= MAX_HEADER / line.length + 1; n++) r.push(line);
    }, (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID" && /larger than 1024 KiB/.test(e.message));
  });

  test("a large body passes through in chunks (output per chunk stays the chunk's size)", () => {
    const r = new SubmissionReader({ ignoreDots: false, rewrite: (f) => f });
    r.push(enc("To: a@x\n\n"));
    const chunk = enc(("x".repeat(99) + "\n").repeat(655)); // ~64 KiB
    let most = 0;
    for (let n = 0; n < 200; n++) most = Math.max(most, r.push(chunk).reduce((s, c) => s + c.length, 0));
    assert.equal(most, chunk.length);
  });

  test("fieldValue unfolds and decodes UTF-8", () => {
    assert.equal(fieldValue({ name: "To", lines: [enc("To:  Zoë <z@x>,"), enc("\tb@y")] }), "Zoë <z@x>,\tb@y");
  });
});

describe("headerAddresses", () => {
  const table: [string, string[]][] = [
    ["a@x", ["a@x"]],
    ["a@x, b@y", ["a@x", "b@y"]],
    ['"Doe, John" <j@x.org>', ["j@x.org"]],
    ["John Doe <j@x.org>, <k@x.org>", ["j@x.org", "k@x.org"]],
    ["root (Cron Daemon)", ["root"]],
    ["a@x (comment, with comma (nested)), b@y", ["a@x", "b@y"]],
    ["undisclosed-recipients:;", []],
    ["Team: a@x, \"B, b\" <b@y>;, c@z", ["a@x", "b@y", "c@z"]],
    ["=?UTF-8?Q?Zo=C3=AB?= <z@x>", ["z@x"]],
    ["<@relay.example:a@x>", ["a@x"]],
    ["Ann <a@x>,\r\n\tBob <b@y>", ["a@x", "b@y"]],
    ['"quoted \\" name, with comma" <q@x>', ["q@x"]],
    ["", []],
    [" , ,", []],
  ];
  for (const [value, want] of table) test(JSON.stringify(value), () => assert.deepEqual(headerAddresses(value, "To"), want));
  for (const [value, what] of [['"open <a@x>', "unterminated quoted string"], ["a@x (open", "unterminated comment"], ["Ann <a@x", "unclosed angle bracket"]]) {
    test(`${JSON.stringify(value)}: MESSAGE_INVALID (${what})`, () => {
      assert.throws(() => headerAddresses(value, "Cc"), (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID" && e.message.includes(`The Cc header has an ${what}`));
    });
  }
});

describe("rewriteHeader", () => {
  const policy: HeaderPolicy = { extract: true, addFrom: true, addDate: true, addMessageId: true, host: "box.example", user: "cron", now: () => new Date(Date.UTC(2025, 1, 3, 4, 5, 6)) };
  const fields = (text: string) => {
    const out: HeaderField[] = [];
    const r = new SubmissionReader({ ignoreDots: true, rewrite: (f) => (out.push(...f), f) });
    r.push(enc(text + "\n\n"));
    return out;
  };
  const names = (f: HeaderField[]) => f.map((x) => x.name);
  const text = (f: HeaderField[]) => f.map((x) => x.lines.map((l) => new TextDecoder().decode(l)).join("\r\n")).join("\n");

  test("-t takes To, Cc and Bcc; Bcc is removed; a complete header is otherwise untouched", () => {
    const { fields: out, outcome } = rewriteHeader(fields("From: A <a@x>\nTo: b@y,\n c@z\nCc: \"D, d\" <d@w>\nBcc: e@v\nDate: x\nMessage-ID: <1@x>"), policy);
    assert.deepEqual(outcome, { recipients: ["b@y", "c@z", "d@w", "e@v"], from: "a@x", added: [], removed: ["Bcc"] });
    assert.deepEqual(names(out), ["From", "To", "Cc", "Date", "Message-ID"]);
  });
  test("without -t, recipients do not come from the header, but Bcc is still removed", () => {
    const { fields: out, outcome } = rewriteHeader(fields("From: a@x\nTo: b@y\nbcc: e@v\nDate: x\nMessage-ID: <1@x>"), { ...policy, extract: false });
    assert.deepEqual(outcome.recipients, []);
    assert.deepEqual(names(out), ["From", "To", "Date", "Message-ID"]);
  });
  test("Resent-To/Cc/Bcc win over To/Cc/Bcc when present; Resent-Bcc removed", () => {
    const { outcome, fields: out } = rewriteHeader(fields("From: a@x\nTo: old@y\nResent-To: new@y\nResent-Bcc: hidden@y\nDate: x\nMessage-ID: <1@x>"), policy);
    assert.deepEqual(outcome.recipients, ["new@y", "hidden@y"]);
    assert.deepEqual(names(out), ["From", "To", "Resent-To", "Date", "Message-ID"]);
  });
  test("missing From, Date and Message-ID are added; -F names the added From", () => {
    const { fields: out, outcome } = rewriteHeader(fields("To: b@y\nSubject: s"), { ...policy, flagFrom: "job@box.example", fullName: "Backup Job" });
    assert.deepEqual(outcome.added, ["From", "Date", "Message-ID"]);
    assert.match(text(out), /^To: b@y\nSubject: s\nFrom: Backup Job <job@box\.example>\nDate: Mon, 03 Feb 2025 04:05:06 \+0000\nMessage-ID: <[^@\s]+@box\.example>$/);
  });
  test("each addition can be switched off", () => {
    const { fields: out, outcome } = rewriteHeader(fields("To: b@y"), { ...policy, addFrom: false, addDate: false, addMessageId: false });
    assert.deepEqual([names(out), outcome.added], [["To"], []]);
  });
  test("envelope sender: -f, else sendmail.from, else the From header, else user@host", () => {
    const h = fields("From: Hdr <hdr@x>\nTo: b@y");
    assert.equal(rewriteHeader(h, { ...policy, flagFrom: "flag@x", configFrom: "cfg@x" }).outcome.from, "flag@x");
    assert.equal(rewriteHeader(h, { ...policy, configFrom: "cfg@x" }).outcome.from, "cfg@x");
    assert.equal(rewriteHeader(h, policy).outcome.from, "hdr@x");
    assert.equal(rewriteHeader(fields("To: b@y"), policy).outcome.from, "cron@box.example");
  });
  test("cron's From: root (Cron Daemon) gives root@host as envelope sender; the header stays", () => {
    const { outcome, fields: out } = rewriteHeader(fields("From: root (Cron Daemon)\nTo: ops@y"), policy);
    assert.equal(outcome.from, "root@box.example");
    assert.match(text(out), /^From: root \(Cron Daemon\)$/m);
  });
  test("the null sender (-f '') adds no From", () => {
    const { outcome } = rewriteHeader(fields("To: b@y"), { ...policy, flagFrom: "" });
    assert.deepEqual([outcome.from, outcome.added], ["", ["Date", "Message-ID"]]);
  });
});

describe("expandFrom (sendmail.from)", () => {
  test("%u, %h and %%", () => assert.equal(expandFrom("%u+100%%@%h", { USER: "cron" }, "box.example"), "cron+100%@box.example"));
  test("LOGNAME when USER is unset", () => assert.equal(expandFrom("%u@x", { LOGNAME: "ann" }, "h"), "ann@x"));
  test("an unknown placeholder is CONFIG_INVALID", () => {
    assert.throws(() => expandFrom("%d@x", {}, "h"), (e: unknown) => e instanceof MailplanError && e.code === "CONFIG_INVALID" && /"%d"/.test(e.message));
  });
});

describe("resolveAlias (sendmail.aliases)", () => {
  const aliases = { root: "Ops <ops@x.example>", Backup: ["a@x.example", "b@x.example"], default: "all@x.example" };
  const table: [string, Record<string, string | string[]> | undefined, string[]][] = [
    ["root", aliases, ["ops@x.example"]],
    ["ROOT", aliases, ["ops@x.example"]],
    ["backup", aliases, ["a@x.example", "b@x.example"]],
    ["www-data", aliases, ["all@x.example"]],
    ["root@host.example", aliases, ["root@host.example"]],
    ["root", { backup: "a@x" }, ["root"]],
    ["root", undefined, ["root"]],
  ];
  for (const [rcpt, a, want] of table) test(`${rcpt} with ${JSON.stringify(a)}`, () => assert.deepEqual(resolveAlias(rcpt, a), want));
});
