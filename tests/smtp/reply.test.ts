import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SmtpError } from "../../lib/smtp/errors.ts";
import { type Reply, replyClass, ReplyParser } from "../../lib/smtp/reply.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const parseAll = (s: string, limits = {}) => new ReplyParser(limits).feed(enc(s), "ehlo");
const protocolError = (fn: () => unknown, re?: RegExp) =>
  assert.throws(
    fn,
    (e: unknown) => e instanceof SmtpError && e.code === "PROTOCOL_ERROR" && (!re || re.test(e.message)),
  );

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

describe("reply parser", () => {
  it("single line, code and text, enhanced code", () => {
    const [r] = parseAll("250 2.0.0 Ok: queued as ABC\r\n");
    assert.deepEqual(r, {
      code: 250,
      enhanced: "2.0.0",
      lines: ["2.0.0 Ok: queued as ABC"],
      text: "2.0.0 Ok: queued as ABC",
    });
  });

  it("multiline 250-/250 with one code", () => {
    const [r] = parseAll("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
    assert.equal(r.code, 250);
    assert.deepEqual(r.lines, ["mx.test", "PIPELINING", "STARTTLS"]);
    assert.equal(r.text, "mx.test\nPIPELINING\nSTARTTLS");
    assert.equal(r.enhanced, undefined);
  });

  it("code alone (`250`) and empty text (`334 `)", () => {
    assert.deepEqual(parseAll("250\r\n")[0].lines, [""]);
    assert.deepEqual(parseAll("334 \r\n")[0].lines, [""]);
  });

  it("enhanced code only when its class matches the reply code", () => {
    assert.equal(parseAll("550 5.1.1 no\r\n")[0].enhanced, "5.1.1");
    assert.equal(parseAll("451 4.3.0 later\r\n")[0].enhanced, "4.3.0");
    assert.equal(parseAll("550 2.0.0 odd\r\n")[0].enhanced, undefined);
    assert.equal(parseAll("250 2.0.0.1 no\r\n")[0].enhanced, undefined);
    assert.equal(parseAll("250 2.0.0\r\n")[0].enhanced, "2.0.0");
  });

  it("several replies in one chunk, returned one at a time", () => {
    const p = new ReplyParser();
    p.push(enc("250 a\r\n354 b\r\n"));
    assert.equal(p.next()?.code, 250);
    assert.equal(p.buffered, 7);
    assert.equal(p.next()?.code, 354);
    assert.equal(p.next(), null);
    assert.equal(p.buffered, 0);
  });

  it("buffered counts queued chunks, partial line and partial reply", () => {
    const p = new ReplyParser();
    p.push(enc("250-a\r\n25"));
    assert.equal(p.next(), null);
    assert.equal(p.buffered, 9);
    p.push(enc("0 b\r"));
    assert.equal(p.next(), null);
    assert.equal(p.buffered, 13);
    p.push(enc("\n"));
    assert.deepEqual(p.next()?.lines, ["a", "b"]);
    assert.equal(p.buffered, 0);
  });

  it("random segmentation gives the same replies (including 1 byte at a time)", () => {
    const text =
      "220 mx ESMTP\r\n250-mx\r\n250-SIZE 1000\r\n250 AUTH PLAIN\r\n334 \r\n550 5.1.1 bad\r\n250 2.0.0 ok\r\n";
    const whole = parseAll(text);
    const bytes = enc(text);
    const rand = rng(42);
    for (let round = 0; round < 200; round++) {
      const p = new ReplyParser();
      const got: Reply[] = [];
      let i = 0;
      while (i < bytes.length) {
        const n = round === 0 ? 1 : 1 + Math.floor(rand() * 12);
        got.push(...p.feed(bytes.slice(i, i + n), "ehlo"));
        i += n;
      }
      assert.deepEqual(got, whole);
    }
  });

  describe("R3: malformed lines → PROTOCOL_ERROR", () => {
    for (
      const bad of [
        "abc",
        "25",
        "2500",
        "600 x",
        "199 x",
        "099 x",
        "25a x",
        "250x",
        "250_x",
        "",
        "-250 x",
        " 250 x",
        "２５０ x",
      ]
    ) {
      it(JSON.stringify(bad), () => protocolError(() => parseAll(bad + "\r\n")));
    }
    it("250-a then 550 b (code changes inside a reply)", () =>
      protocolError(() => parseAll("250-a\r\n550 b\r\n"), /from 250 to 550/));
    it("bare LF", () => protocolError(() => parseAll("250 ok\n"), /bare line feed/));
    it("bare LF split across chunks after a valid line", () => {
      const p = new ReplyParser();
      assert.equal(p.feed(enc("250 ok\r\n"))[0].code, 250);
      protocolError(() => p.feed(enc("250 x\n")));
    });
    it("bare CR", () => protocolError(() => parseAll("250 o\rk\r\n"), /carriage return/));
    it("CR at the end of one chunk, then not LF", () => {
      const p = new ReplyParser();
      p.feed(enc("250 ok\r"));
      protocolError(() => p.feed(enc("x")));
    });
    it("once failed, the parser keeps failing (with the new phase)", () => {
      const p = new ReplyParser();
      protocolError(() => p.feed(enc("abc\r\n")));
      assert.throws(
        () => p.feed(enc("250 ok\r\n"), "mail"),
        (e: unknown) => e instanceof SmtpError && e.phase === "mail",
      );
    });
  });

  describe("R1/R2: bounds, memory stays flat", () => {
    it("line over the cap fails as soon as the cap is passed, without CRLF", () => {
      const p = new ReplyParser({ maxLineBytes: 16 });
      p.feed(enc("250 0123456789ab")); // 16 bytes: at the cap
      protocolError(() => p.feed(enc("c")), /longer than 16 bytes/);
    });
    it("default line cap is 8 KiB", () => {
      assert.equal(parseAll("250 " + "x".repeat(8188) + "\r\n")[0].code, 250);
      protocolError(() => parseAll("250 " + "x".repeat(8189) + "\r\n"));
    });
    it("a line without CRLF that never ends is stopped at the cap", () => {
      const p = new ReplyParser();
      const chunk = enc("x".repeat(1000));
      assert.throws(() => {
        for (let i = 0; i < 100; i++) p.feed(chunk);
      }, SmtpError);
    });
    it("whole reply over 64 KiB fails", () => {
      const p = new ReplyParser({ maxReplyLines: 100000 });
      const line = enc("250-" + "x".repeat(996) + "\r\n"); // 1002 bytes a line
      assert.throws(() => {
        for (let i = 0; i < 70; i++) p.feed(line);
      }, (e: unknown) => e instanceof SmtpError && /longer than 65536 bytes/.test(e.message));
    });
    it("endless 250- lines: stopped by the line-count cap", () => {
      const p = new ReplyParser();
      assert.throws(() => {
        for (let i = 0; i < 2000; i++) p.feed(enc("250-x\r\n"));
      }, (e: unknown) => e instanceof SmtpError && /more than 1000 lines/.test(e.message));
    });
    it("buffered never exceeds the reply cap for an unterminated reply", () => {
      const p = new ReplyParser({ maxReplyBytes: 1024, maxLineBytes: 100 });
      let max = 0;
      try {
        for (let i = 0; i < 1000; i++) {
          p.feed(enc("250-abcdefgh\r\n"));
          max = Math.max(max, p.buffered);
        }
      } catch (e) {
        assert.ok(e instanceof SmtpError);
      }
      assert.ok(max <= 1024, `buffered ${max}`);
    });
  });

  it("reset() forgets buffered bytes", () => {
    const p = new ReplyParser();
    p.push(enc("250 ok\r\n250 x"));
    p.reset();
    assert.equal(p.buffered, 0);
    assert.equal(p.next(), null);
  });

  it("invalid UTF-8 in text is replaced, not fatal", () => {
    const p = new ReplyParser();
    const [r] = p.feed(new Uint8Array([0x32, 0x35, 0x30, 0x20, 0xff, 0x0d, 0x0a]));
    assert.equal(r.text, "\ufffd");
  });
});

describe("replyClass", () => {
  it("names the class of a code by its first digit (RFC 5321 §4.2.1); outside 200–599 is invalid", () => {
    const rows: [number, ReturnType<typeof replyClass>][] = [
      [200, "positive"], [250, "positive"], [299, "positive"],
      [334, "intermediate"], [354, "intermediate"],
      [400, "transient"], [421, "transient"], [451, "transient"], [499, "transient"],
      [500, "permanent"], [550, "permanent"], [599, "permanent"],
      [199, "invalid"], [600, "invalid"], [0, "invalid"], [250.5, "invalid"], [NaN, "invalid"],
    ];
    for (const [code, want] of rows) assert.equal(replyClass(code), want, String(code));
  });
});
