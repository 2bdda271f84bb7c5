import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { extraHeader, subjectHeader } from "../../lib/message/headers.ts";
import { encodeWords } from "../../lib/message/encoded-word.ts";
import { foldLine, formatHeader } from "../../lib/message/fold.ts";
import { formatDate } from "../../lib/message/date.ts";
import { formatParam, withParams } from "../../lib/message/params.ts";
import { contentTypeFor } from "../../lib/message/mime-types.ts";
import { MailplanError } from "../../lib/codes.ts";
import { decodeWords, headerValue, maxLineOctets } from "./helpers.ts";

/** Checks the header is well-formed and returns its decoded value. */
function subjectRoundTrip(subject: string): { header: string; decoded: string } {
  const header = subjectHeader(subject);
  assert.ok(header.endsWith("\r\n"));
  assert.ok(maxLineOctets(header.slice(0, -2)) <= 78, header);
  assert.ok(!/\r\n[ \t]*\r\n/.test(header), "no whitespace-only line");
  assert.ok(/^[\x20-\x7e\r\n\t]*$/.test(header), "ASCII only");
  for (const w of header.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? []) assert.ok(w.length <= 75, w);
  return { header, decoded: decodeWords(headerValue(header, "Subject")!) };
}

describe("Subject (RFC 2047)", () => {
  it("plain ASCII stays as is; empty subject allowed", () => {
    assert.equal(subjectHeader("Disk almost full"), "Subject: Disk almost full\r\n");
    assert.equal(subjectHeader(""), "Subject:\r\n");
  });

  it("emoji: encoded, surrogate pairs and ZWJ sequences intact", () => {
    const s = "Deploy done 🎉 by 👩‍💻 at 🇫🇷";
    const { header, decoded } = subjectRoundTrip(s);
    assert.match(header, /^Subject: =\?UTF-8\?[BQ]\?/);
    assert.equal(decoded, s);
  });

  it("long Japanese: B encoding, several words, folded at 78, characters never split", () => {
    const s = "本日のシステムメンテナンスのお知らせ：サーバーは午前二時から午前五時まで停止いたします。ご不便をおかけして申し訳ございません。";
    const { header, decoded } = subjectRoundTrip(s);
    assert.match(header, /\?B\?/);
    assert.ok(header.split("\r\n").length > 3);
    assert.equal(decoded, s);
  });

  it("ASCII containing =? is encoded so readers do not decode it", () => {
    const s = "Price =?utf-8?q?free?= today";
    const { header, decoded } = subjectRoundTrip(s);
    assert.ok(!header.includes("=?utf-8?q?free?="));
    assert.equal(decoded, s);
  });

  it("long ASCII folds at spaces; unfolding restores it", () => {
    const s = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const header = subjectHeader(s);
    assert.ok(header.split("\r\n").length > 2);
    assert.ok(maxLineOctets(header) <= 78);
    assert.equal(headerValue(header, "Subject"), s);
  });

  it("an ASCII word too long to fold is encoded", () => {
    const s = "x".repeat(120);
    const { decoded } = subjectRoundTrip(s);
    assert.equal(decoded, s);
  });

  it("CR, LF or NUL in the subject → MESSAGE_INVALID", () => {
    for (const s of ["a\r\nBcc: x@y", "a\nb", "a\rb", "a\0b"]) {
      assert.throws(() => subjectHeader(s), (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID");
    }
  });

  it("encodeWords picks the shorter of Q and B (Q on a tie)", () => {
    assert.deepEqual(encodeWords("Café ouvert"), ["=?UTF-8?Q?Caf=C3=A9_ouvert?="]);
    assert.deepEqual(encodeWords("Grüße"), ["=?UTF-8?B?R3LDvMOfZQ==?="]);
    assert.match(encodeWords("日本語")[0], /^=\?UTF-8\?B\?/);
  });
});

describe("folding and other headers", () => {
  it("foldLine never produces a whitespace-only line and keeps all characters", () => {
    const line = "X-Test: " + "ab ".repeat(50) + "   ";
    const lines = foldLine(line);
    assert.equal(lines.join(""), line);
    assert.ok(lines.every((l) => l.trim() !== ""));
  });

  it("formatHeader rejects a line over 998 octets and CR/LF", () => {
    assert.throws(() => formatHeader("X-Long", "a".repeat(1000)), { code: "MESSAGE_INVALID" });
    assert.throws(() => formatHeader("X-A", "b\r\nBcc: c@d"), { code: "MESSAGE_INVALID" });
  });

  it("extra headers: kept when ASCII, encoded when not, reserved names refused", () => {
    assert.equal(extraHeader("X-Priority", "1"), "X-Priority: 1\r\n");
    assert.equal(decodeWords(headerValue(extraHeader("X-Team", "Équipe ops"), "X-Team")!), "Équipe ops");
    assert.throws(() => extraHeader("Bcc", "x@y"), { code: "MESSAGE_INVALID" });
    assert.throws(() => extraHeader("Bad Name", "x"), { code: "MESSAGE_INVALID" });
    assert.throws(() => extraHeader("X-A", "x\nTo: y@z"), { code: "MESSAGE_INVALID" });
  });

  it("Date in RFC 5322 form, UTC", () => {
    assert.equal(formatDate(new Date(Date.UTC(2025, 1, 3, 4, 5, 6))), "Mon, 03 Feb 2025 04:05:06 +0000");
  });

  it("parameters: token bare, ASCII quoted, non-ASCII and long values RFC 2231", () => {
    assert.deepEqual(formatParam("filename", "a.pdf"), ["filename=a.pdf"]);
    assert.deepEqual(formatParam("filename", 'my "q" file.pdf'), ['filename="my \\"q\\" file.pdf"']);
    assert.deepEqual(formatParam("filename", "é.txt"), ["filename*=utf-8''%C3%A9.txt"]);
    const long = formatParam("filename", "ü".repeat(40) + ".txt");
    assert.ok(long.length > 1);
    long.forEach((p, i) => assert.ok(p.startsWith(`filename*${i}*=`)));
    const joined = long.map((p) => p.slice(p.indexOf("=") + 1)).join("");
    assert.equal(decodeURIComponent(joined.replace(/^utf-8''/, "")), "ü".repeat(40) + ".txt");
    assert.equal(withParams("text/plain", [["charset", "utf-8"]]), "text/plain; charset=utf-8");
  });

  it("content types from a small table, octet-stream otherwise", () => {
    assert.equal(contentTypeFor("Report.PDF"), "application/pdf");
    assert.equal(contentTypeFor("photo.jpeg"), "image/jpeg");
    assert.equal(contentTypeFor("data.bin"), "application/octet-stream");
    assert.equal(contentTypeFor("Makefile"), "application/octet-stream");
  });
});
