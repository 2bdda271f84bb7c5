import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { collect, composeMessage, type ComposeOptions } from "../../lib/message/compose.ts";
import { MailplanError } from "../../lib/codes.ts";
import { dec, decodeQp, decodeWords, headerValue, maxLineOctets, splitMultipart } from "./helpers.ts";

const fixed = { date: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), messageId: "<1@example.com>", boundarySeed: "seed" };
const text = async (o: ComposeOptions) => {
  const m = await composeMessage(o);
  const bytes = await collect(m.stream());
  assert.equal(bytes.length, m.size, "size matches the stream");
  return { m, s: dec(bytes), bytes };
};
const invalid = (re: RegExp) => (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID" && re.test(e.message + " " + e.hint);

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "mailplan-compose-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("composeMessage", () => {
  it("exact bytes of a deterministic simple message", async () => {
    const { m, s } = await text({ ...fixed, from: "Alice <alice@example.com>", to: ["bob@example.org"], subject: "Hello", text: "Hi Bob,\nsee you.\n" });
    assert.equal(
      s,
      "Date: Thu, 02 Jan 2025 03:04:05 +0000\r\n" +
        "From: Alice <alice@example.com>\r\n" +
        "To: bob@example.org\r\n" +
        "Subject: Hello\r\n" +
        "Message-ID: <1@example.com>\r\n" +
        "MIME-Version: 1.0\r\n" +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        "Content-Transfer-Encoding: 7bit\r\n" +
        "\r\n" +
        "Hi Bob,\r\nsee you.\r\n",
    );
    assert.deepEqual(m.envelope, { from: "alice@example.com", recipients: ["bob@example.org"] });
    assert.equal(m.messageId, "<1@example.com>");
    assert.equal(m.has8bit, false);
    assert.equal(m.smtpUtf8, false);
  });

  it("same inputs → same bytes; without them Message-ID and boundaries are random", async () => {
    const o = { from: "a@example.com", to: ["b@x.org"], subject: "s", text: "t", attachments: [] };
    assert.equal((await text({ ...o, ...fixed })).s, (await text({ ...o, ...fixed })).s);
    const a = await composeMessage(o);
    const b = await composeMessage(o);
    assert.notEqual(a.messageId, b.messageId);
    assert.match(a.messageId, /^<[a-z0-9]+\.[0-9a-f]{32}@example\.com>$/);
    assert.match((await composeMessage({ ...o, messageIdDomain: "mx.example.net" })).messageId, /@mx\.example\.net>$/);
  });

  it("Cc in headers, Bcc only in the envelope; duplicates dropped", async () => {
    const { m, s } = await text({ ...fixed, from: "a@x.org", to: ["b@x.org,c@x.org"], cc: ["C <c@x.org>", "d@x.org"], bcc: ["hidden@x.org"], subject: "s", text: "t" });
    assert.equal(headerValue(s, "Cc"), "C <c@x.org>, d@x.org");
    assert.ok(!/hidden/.test(s));
    assert.ok(!/^bcc:/im.test(s));
    assert.deepEqual(m.envelope.recipients, ["b@x.org", "c@x.org", "d@x.org", "hidden@x.org"]);
  });

  it("every line CRLF-terminated, headers ≤ 78, body lines ≤ 998", async () => {
    const { s } = await text({ ...fixed, from: "Ünïcødé Sender Name That Is Quite Long <a@x.org>", to: Array.from({ length: 12 }, (_, i) => `Person ${i} <p${i}@example.org>`), subject: "日本語の件名 ".repeat(8), text: "x".repeat(3000) + "\nshort\r\nmixed\rend" });
    assert.ok(!/[^\r]\n/.test(s) && !/\r[^\n]/.test(s), "only CRLF");
    const [head, body] = [s.slice(0, s.indexOf("\r\n\r\n")), s.slice(s.indexOf("\r\n\r\n") + 4)];
    assert.ok(maxLineOctets(head) <= 78, head);
    assert.ok(maxLineOctets(body) <= 76);
    assert.equal(headerValue(s, "Content-Transfer-Encoding"), "quoted-printable");
    assert.equal(dec(decodeQp(body)), "x".repeat(3000) + "\r\nshort\r\nmixed\r\nend\r\n");
    assert.equal(decodeWords(headerValue(s, "Subject")!), "日本語の件名 ".repeat(8));
  });

  it("non-ASCII text: QP by default, 8bit only when the server has 8BITMIME", async () => {
    const o = { ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "", text: "Grüße\n" };
    const qp = await text(o);
    assert.match(qp.s, /Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n$/);
    assert.equal(qp.m.has8bit, false);
    assert.match(qp.s, /^Subject:\r\n/m);
    const eight = await text({ ...o, eightBitMime: true });
    assert.match(eight.s, /Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n$/);
    assert.equal(eight.m.has8bit, true);
  });

  it("html → multipart/alternative with text first, then html", async () => {
    const html = join(dir, "body.html");
    writeFileSync(html, "<p>Hello <b>world</b></p>\n");
    const { s } = await text({ ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "s", text: "Hello world", htmlFile: html });
    const ct = headerValue(s, "Content-Type")!;
    const boundary = /^multipart\/alternative; boundary="([^"]+)"$/.exec(ct)![1];
    const parts = splitMultipart(s.slice(s.indexOf("\r\n\r\n") + 4), boundary);
    assert.equal(parts.length, 2);
    assert.equal(headerValue(parts[0], "Content-Type"), "text/plain; charset=utf-8");
    assert.equal(parts[0].split("\r\n\r\n")[1], "Hello world");
    assert.equal(headerValue(parts[1], "Content-Type"), "text/html; charset=utf-8");
    assert.equal(parts[1].split("\r\n\r\n")[1], "<p>Hello <b>world</b></p>\r\n");
  });

  it("attachments → multipart/mixed, base64 round trip, RFC 2231 names, guessed types", async () => {
    const bin = randomBytes(100_000);
    const a = join(dir, "data.bin");
    const b = join(dir, "Résumé.pdf");
    const empty = join(dir, "empty.txt");
    writeFileSync(a, bin);
    writeFileSync(b, "%PDF-1.4\n");
    writeFileSync(empty, "");
    const html = join(dir, "x.html");
    writeFileSync(html, "<p>x</p>");
    const { s, m } = await text({ ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "files", text: "see attached", htmlFile: html, attachments: [a, b, empty] });
    const outer = /^multipart\/mixed; boundary="([^"]+)"$/.exec(headerValue(s, "Content-Type")!)![1];
    const parts = splitMultipart(s.slice(s.indexOf("\r\n\r\n") + 4), outer);
    assert.equal(parts.length, 4);
    assert.match(headerValue(parts[0], "Content-Type")!, /^multipart\/alternative; boundary=/);
    const [binHead, binBody] = parts[1].split("\r\n\r\n");
    assert.equal(headerValue(binHead, "Content-Type"), "application/octet-stream; name=data.bin");
    assert.equal(headerValue(binHead, "Content-Transfer-Encoding"), "base64");
    assert.equal(headerValue(binHead, "Content-Disposition"), "attachment; filename=data.bin");
    assert.ok(binBody.split("\r\n").every((l) => l.length <= 76));
    assert.deepEqual(new Uint8Array(Buffer.from(binBody.replace(/\r\n/g, ""), "base64")), new Uint8Array(bin));
    const pdfHead = parts[2].split("\r\n\r\n")[0];
    assert.equal(headerValue(pdfHead, "Content-Type"), "application/pdf; name*=utf-8''R%C3%A9sum%C3%A9.pdf");
    assert.equal(headerValue(pdfHead, "Content-Disposition"), "attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf");
    assert.equal(Buffer.from(parts[2].split("\r\n\r\n")[1], "base64").toString(), "%PDF-1.4\n");
    assert.equal(parts[3].split("\r\n\r\n")[1], "");
    assert.equal(m.has8bit, false);
  });

  it("a 7bit text containing the would-be boundary gets another boundary", async () => {
    const first = await text({ ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "s", text: "x", attachments: [join(dir, "data.bin")] });
    const used = /boundary="([^"]+)"/.exec(first.s)![1];
    const again = await text({ ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "s", text: `--${used}\n`, attachments: [join(dir, "data.bin")] });
    const b2 = /boundary="([^"]+)"/.exec(again.s)![1];
    assert.notEqual(b2, used);
    assert.equal(splitMultipart(again.s.slice(again.s.indexOf("\r\n\r\n") + 4), b2).length, 2);
  });

  it("validation: missing body, missing files, no recipient, CR/LF injection", async () => {
    const base = { ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "s" };
    await assert.rejects(composeMessage(base), invalid(/no body.*--text/));
    await assert.rejects(composeMessage({ ...base, text: "t", attachments: [join(dir, "nope.pdf")] }), invalid(/nope\.pdf/));
    await assert.rejects(composeMessage({ ...base, text: "t", attachments: [dir] }), invalid(/not a regular file/));
    await assert.rejects(composeMessage({ ...base, textFile: join(dir, "missing.txt") }), invalid(/missing\.txt/));
    await assert.rejects(composeMessage({ ...base, to: [], text: "t" }), invalid(/no recipient/));
    await assert.rejects(composeMessage({ ...base, text: "t", subject: "hi\r\nBcc: evil@x" }), invalid(/line break/));
    await assert.rejects(composeMessage({ ...base, text: "t", to: ["b@x.org\r\nDATA"] }), invalid(/line break/));
    await assert.rejects(composeMessage({ ...base, text: "t", from: "A\n <a@x.org>" }), invalid(/line break/));
    await assert.rejects(composeMessage({ ...base, text: "t", headers: { "X-A": "1\nBcc: e@x" } }), invalid(/line break/));
    await assert.rejects(composeMessage({ ...base, text: "t", textFile: "f" }), { code: "USAGE" });
    writeFileSync(join(dir, "latin1.txt"), new Uint8Array([0x63, 0x61, 0x66, 0xe9]));
    await assert.rejects(composeMessage({ ...base, textFile: join(dir, "latin1.txt") }), invalid(/not UTF-8/));
  });

  it("text file body, empty text allowed, extra headers in order, SMTPUTF8 flag", async () => {
    const f = join(dir, "body.txt");
    writeFileSync(f, "\uFEFFfrom a file\n");
    const { s, m } = await text({ ...fixed, from: "josé@x.org", to: ["b@x.org"], subject: "s", textFile: f, headers: [["X-B", "2"], ["X-A", "1"]] });
    assert.ok(s.endsWith("\r\n\r\nfrom a file\r\n"));
    assert.ok(s.indexOf("X-B: 2") < s.indexOf("X-A: 1"));
    assert.equal(m.smtpUtf8, true);
    assert.equal(m.has8bit, true, "raw UTF-8 address in From");
    const empty = await text({ ...fixed, from: "a@x.org", to: ["b@x.org"], subject: "s", text: "" });
    assert.ok(empty.s.endsWith("7bit\r\n\r\n\r\n"));
  });
});
