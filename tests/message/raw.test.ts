import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CrlfNormalizer, normalizeCrlf } from "../../lib/message/crlf.ts";
import { RawScanner } from "../../lib/message/raw-scan.ts";
import { openRawMessage, readFileChunks } from "../../lib/message/raw.ts";
import { collect } from "../../lib/message/compose.ts";
import { MailplanError } from "../../lib/codes.ts";
import { dec, enc } from "./helpers.ts";

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "mailplan-raw-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Normalises `s` split at every position pair into three chunks. */
function allSplits(s: string): Set<string> {
  const b = enc(s);
  const seen = new Set<string>();
  for (let i = 0; i <= b.length; i++) {
    for (let j = i; j <= b.length; j++) {
      const n = new CrlfNormalizer();
      seen.add([n.push(b.subarray(0, i)), n.push(b.subarray(i, j)), n.push(b.subarray(j)), n.end()].map(dec).join(""));
    }
  }
  return seen;
}

async function* chunksOf(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === "string" ? enc(p) : p;
}

const scan = (...parts: string[]) => {
  const s = new RawScanner("test.eml");
  for (const p of parts) s.push(enc(p));
  return s.finish();
};
const invalid = (re: RegExp) => (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID" && re.test(e.message + " " + e.hint);

describe("CRLF normalisation", () => {
  it("bare LF and bare CR become CRLF across every chunk boundary; CRLF stays one CRLF", () => {
    assert.deepEqual([...allSplits("a\r\nb\nc\rd\r\r\n\n.e\r")], ["a\r\nb\r\nc\r\nd\r\n\r\n\r\n.e\r\n"]);
  });

  it("normalizeCrlf over an async iterable; other bytes (incl. leading dots) untouched", async () => {
    const out = await collect(normalizeCrlf(chunksOf("x\r", "\n.y\r", "", "\rz\n", new Uint8Array([0xff, 0x0d]))));
    assert.deepEqual(out, new Uint8Array([...enc("x\r\n.y\r\n\r\nz\r\n"), 0xff, 0x0d, 0x0a]));
  });
});

describe("raw pre-scan", () => {
  it("size after normalisation, 8-bit, longest line, Message-ID", () => {
    const r = scan("From: a@x\nTo: b@y\nMessage-ID:\n  <abc.123@x.org>\nSubject: é\n\nbody\r", "\nline two is longest\n");
    assert.equal(r.size, enc("From: a@x\r\nTo: b@y\r\nMessage-ID:\r\n  <abc.123@x.org>\r\nSubject: é\r\n\r\nbody\r\nline two is longest\r\n").length);
    assert.equal(r.has8bit, true);
    assert.equal(r.headers8bit, true);
    assert.equal(r.smtpUtf8, false, "non-ASCII only in Subject");
    assert.equal(r.longestLine, "line two is longest".length);
    assert.equal(r.messageId, "<abc.123@x.org>");
    assert.equal(r.headerCount, 4);
  });

  it("non-ASCII in an address header → smtpUtf8; no Message-ID → null; separator split across chunks", () => {
    const r = scan("From: José <josé@x.org>\r\nTo: b@y\r", "\n\r", "\nhi");
    assert.equal(r.smtpUtf8, true);
    assert.equal(r.messageId, null);
    assert.equal(r.size, enc("From: José <josé@x.org>\r\nTo: b@y\r\n\r\nhi").length);
  });

  it("not a message → MESSAGE_INVALID with a hint", () => {
    assert.throws(() => scan(""), invalid(/empty/));
    assert.throws(() => scan("\n\nhello"), invalid(/empty line/));
    assert.throws(() => scan("Subject: x\nTo: y@z\n"), invalid(/no empty line.*add an empty line/));
    assert.throws(() => scan("just some text\n\nmore"), invalid(/line 1.*neither a header/));
    assert.throws(() => scan("From a@b Mon Jan 1 00:00:00 2025\nSubject: x\n\nb"), invalid(/mbox/));
    assert.throws(() => scan("Subject: x\n\nbin\0ary"), invalid(/NUL.*--attach/));
    assert.throws(() => scan(" folded: first\n\nx"), invalid(/whitespace/));
  });
});

describe("raw messages from files", () => {
  it("stream is the file with CRLF line endings, nothing else changed (no dot-stuffing); re-startable", async () => {
    const f = join(dir, "m.eml");
    const raw = "Subject: x\n\n.\n..dots\r\nlast\rno newline";
    writeFileSync(f, raw);
    const msg = await openRawMessage(f);
    const expected = "Subject: x\r\n\r\n.\r\n..dots\r\nlast\r\nno newline";
    assert.equal(dec(await collect(msg.stream())), expected);
    assert.equal(dec(await collect(msg.stream())), expected);
    assert.equal(msg.scan.size, enc(expected).length);
    await msg.dispose();
  });

  it("missing file, directory, stdin spool", async () => {
    await assert.rejects(openRawMessage(join(dir, "nope.eml")), invalid(/nope\.eml.*does not exist/));
    await assert.rejects(openRawMessage(dir), invalid(/not a regular file/));
    const msg = await openRawMessage("-", chunksOf("To: a@b\n", "\nfrom stdin\n"));
    assert.equal(dec(await collect(msg.stream())), "To: a@b\r\n\r\nfrom stdin\r\n");
    assert.ok(existsSync(msg.path));
    await msg.dispose();
    assert.ok(!existsSync(msg.path));
    await assert.rejects(openRawMessage("-", chunksOf("")), invalid(/stdin.*empty/));
  });

  it("50 MB file: streamed with flat memory, pre-scan numbers exact", async () => {
    const f = join(dir, "big.eml");
    const header = "From: a@x.org\nTo: b@y.org\nSubject: big\nMessage-ID: <big@x.org>\n\n";
    const line = "y".repeat(98) + "é\n"; // 101 bytes, LF only
    const block = enc(line.repeat(10_000)); // ~1 MB
    const longLine = "z".repeat(998) + "\r\n"; // the longest line RFC 5322 allows
    const fh = await open(f, "w");
    let bytes = 0;
    let lfs = 0;
    const write = async (b: Uint8Array) => {
      await fh.write(b);
      bytes += b.length;
    };
    await write(enc(header));
    lfs += 5;
    for (let i = 0; i < 50; i++) {
      await write(block);
      lfs += 10_000;
    }
    await write(enc(longLine));
    await fh.close();
    assert.ok(bytes > 50_000_000);

    const rss = () => process.memoryUsage().rss;
    const start = rss();
    let peak = start;
    const msg = await openRawMessage(f);
    peak = Math.max(peak, rss());
    assert.equal(msg.scan.size, bytes + lfs);
    assert.equal(msg.scan.has8bit, true);
    assert.equal(msg.scan.smtpUtf8, false);
    assert.equal(msg.scan.longestLine, 998);
    assert.equal(msg.scan.messageId, "<big@x.org>");

    let total = 0;
    let n = 0;
    let bareLf = 0;
    let prev = 0;
    for await (const chunk of msg.stream()) {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] === 0x0a && (i > 0 ? chunk[i - 1] : prev) !== 0x0d) bareLf++;
      }
      prev = chunk[chunk.length - 1];
      total += chunk.length;
      if (++n % 64 === 0) peak = Math.max(peak, rss());
    }
    peak = Math.max(peak, rss());
    assert.equal(total, msg.scan.size);
    assert.equal(bareLf, 0);
    const growth = (peak - start) / 1e6;
    assert.ok(growth < 40, `RSS grew ${growth.toFixed(1)} MB`);
  });

  it("a line over 998 octets is MESSAGE_INVALID naming its line, found while streaming (a 10 MB line)", async () => {
    const f = join(dir, "long-line.eml");
    const fh = await open(f, "w");
    await fh.write(enc("From: a@x.org\nTo: b@y.org\nSubject: long\n\nok line\n"));
    const mb = new Uint8Array(1024 * 1024).fill(0x78);
    for (let i = 0; i < 10; i++) await fh.write(mb);
    await fh.write(enc("\n"));
    await fh.close();
    await assert.rejects(openRawMessage(f), invalid(/line 6 is longer than 998 octets \(RFC 5322 §2\.1\.1, RFC 5321 §4\.5\.3\.1\.6\)/));
    // The scanner stops inside the first chunk that passes the limit: it never reads the rest.
    const s = new RawScanner("x.eml");
    s.push(enc("Subject: a\n\n"));
    let pushed = 0;
    assert.throws(() => {
      for (let i = 0; i < 10; i++) {
        s.push(new Uint8Array(512).fill(0x61));
        pushed++;
      }
    }, invalid(/line 3 is longer than 998 octets/));
    assert.equal(pushed, 1, "refused in the second 512-byte chunk of the line");
    // Exactly 998 is fine, in the header too; CR LF are not counted.
    assert.equal(scan(`Subject: ${"s".repeat(989)}\r\n\r\n${"b".repeat(998)}\r\n`).longestLine, 998);
    assert.throws(() => scan(`Subject: ${"s".repeat(990)}\r\n\r\nb\r\n`), invalid(/line 1 is longer than 998 octets/));
  });

  it("stdin is scanned while it is spooled: an endless overlong line stops the read at once", async () => {
    let pulled = 0;
    async function* endless() {
      yield enc("Subject: x\n\n");
      for (;;) {
        pulled++;
        yield new Uint8Array(4096).fill(0x61);
      }
    }
    await assert.rejects(openRawMessage("-", endless()), invalid(/stdin .* line 3 is longer than 998 octets/));
    assert.equal(pulled, 1, "stopped inside the first chunk that passed the limit");
  });

  it("readFileChunks yields fresh buffers of the requested size", async () => {
    const f = join(dir, "c.bin");
    writeFileSync(f, new Uint8Array(10).fill(7));
    const chunks: Uint8Array[] = [];
    for await (const c of readFileChunks(f, 4)) chunks.push(c);
    assert.deepEqual(chunks.map((c) => c.length), [4, 4, 2]);
    assert.notEqual(chunks[0].buffer, chunks[1].buffer);
  });
});
