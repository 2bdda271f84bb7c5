import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BodyEncoder,
  encodeBody,
  has8bit,
  headerSection,
  messageSize,
  needsSmtpUtf8,
} from "../../lib/smtp/body.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const whole = (s: string) => dec(encodeBody(enc(s)));
/** Encodes `chunks` one by one through one encoder. */
const chunked = (...chunks: string[]) => {
  const e = new BodyEncoder();
  return chunks.map((c) => dec(e.encode(enc(c)))).join("") + dec(e.finish());
};

describe("body encoder", () => {
  it("terminator: CRLF.CRLF, no doubled CRLF when the body ends a line", () => {
    assert.equal(whole("hi"), "hi\r\n.\r\n");
    assert.equal(whole("hi\r\n"), "hi\r\n.\r\n");
    assert.equal(whole("hi\n"), "hi\r\n.\r\n");
    assert.equal(whole("hi\r"), "hi\r\n.\r\n");
    assert.equal(whole(""), ".\r\n");
    assert.equal(whole("a\r\n\r\n"), "a\r\n\r\n.\r\n");
  });

  it("line endings: bare LF and bare CR become CRLF, CRLF stays", () => {
    assert.equal(whole("a\nb\rc\r\nd"), "a\r\nb\r\nc\r\nd\r\n.\r\n");
    assert.equal(whole("a\r\r\nb"), "a\r\n\r\nb\r\n.\r\n");
    assert.equal(whole("a\n\rb"), "a\r\n\r\nb\r\n.\r\n");
  });

  it("dot-stuffing: a dot at line start is doubled, elsewhere untouched", () => {
    assert.equal(whole(".a\r\nb.c\r\n..\r\n."), "..a\r\nb.c\r\n...\r\n..\r\n.\r\n");
  });

  describe("R9 smuggling: no lone dot line can survive", () => {
    for (
      const [name, input, want] of [
        ["\\n.\\n", "a\n.\nMAIL FROM:<x>", "a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n"],
        ["\\r.\\r", "a\r.\rMAIL", "a\r\n..\r\nMAIL\r\n.\r\n"],
        ["\\r\\n.\\n", "a\r\n.\nb", "a\r\n..\r\nb\r\n.\r\n"],
        ["\\n.\\r\\n", "a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"],
        ["lone dot first line", ".\r\nb", "..\r\nb\r\n.\r\n"],
        ["lone dot at the end", "a\r\n.", "a\r\n..\r\n.\r\n"],
        ["lone dot + CRLF at the end", "a\r\n.\r\n", "a\r\n..\r\n.\r\n"],
      ] as const
    ) {
      it(name, () => {
        const out = whole(input);
        assert.equal(out, want);
        // the only CRLF.CRLF is the terminator
        assert.equal(out.indexOf("\r\n.\r\n"), out.length - 5);
        assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(out), "no bare CR or LF");
      });
    }
  });

  describe("state across chunk boundaries", () => {
    it("CRLF ending chunk N, dot starting chunk N+1 → stuffed", () => {
      assert.equal(chunked("a\r\n", ".b"), "a\r\n..b\r\n.\r\n");
      assert.equal(chunked("a\n", ".", "\n"), "a\r\n..\r\n.\r\n");
    });
    it("CR at the end of one chunk, LF at the start of the next → one CRLF", () => {
      assert.equal(chunked("a\r", "\nb"), "a\r\nb\r\n.\r\n");
      assert.equal(chunked("a\r", "\n.b"), "a\r\n..b\r\n.\r\n");
    });
    it("CR at the end of one chunk, other byte next → CRLF + byte", () => {
      assert.equal(chunked("a\r", "b"), "a\r\nb\r\n.\r\n");
      assert.equal(chunked("a\r", ".b"), "a\r\n..b\r\n.\r\n");
      assert.equal(chunked("a\r", "\r", "\n"), "a\r\n\r\n.\r\n");
    });
    it("empty chunks change nothing", () => {
      assert.equal(chunked("a\r\n", "", ".", ""), "a\r\n..\r\n.\r\n");
    });
    it("any segmentation equals the one-shot encoding", () => {
      const text = ".x\r\n\r\n.\n.\r.\r\n..\rab\n\r\n.end\r";
      const want = whole(text);
      const bytes = enc(text);
      for (let size = 1; size <= bytes.length; size++) {
        const e = new BodyEncoder();
        let out = "";
        for (let i = 0; i < bytes.length; i += size) out += dec(e.encode(bytes.slice(i, i + size)));
        assert.equal(out + dec(e.finish()), want, `segment ${size}`);
      }
    });
  });

  it("8-bit bytes pass through unchanged", () => {
    const e = new BodyEncoder();
    const out = e.encode(new Uint8Array([0xc3, 0xa9, 0x0a, 0x2e, 0xff]));
    assert.deepEqual([...out], [0xc3, 0xa9, 0x0d, 0x0a, 0x2e, 0x2e, 0xff]);
  });

  it("misuse throws", () => {
    const e = new BodyEncoder();
    e.finish();
    assert.throws(() => e.encode(enc("x")));
    assert.throws(() => e.finish());
  });
});

describe("message helpers", () => {
  it("messageSize counts normalised line endings, no stuffing", () => {
    assert.equal(messageSize(enc("a\nb")), 4);
    assert.equal(messageSize(enc("a\r\nb\r")), 6);
    assert.equal(messageSize(enc(".\n")), 3);
  });
  it("has8bit", () => {
    assert.equal(has8bit(enc("plain ascii\r\n")), false);
    assert.equal(has8bit(enc("café")), true);
  });
  it("headerSection stops at the first empty line", () => {
    assert.equal(dec(headerSection(enc("A: 1\r\nB: 2\r\n\r\nbody"))), "A: 1\r\nB: 2\r\n");
    assert.equal(dec(headerSection(enc("A: 1\n\nbody"))), "A: 1\n");
    assert.equal(dec(headerSection(enc("A: 1"))), "A: 1");
  });
  it("needsSmtpUtf8: non-ASCII address or raw UTF-8 header, not an 8-bit body", () => {
    assert.equal(needsSmtpUtf8({ from: "a@x", recipients: ["b@y"] }), false);
    assert.equal(needsSmtpUtf8({ from: "ü@x", recipients: ["b@y"] }), true);
    assert.equal(needsSmtpUtf8({ from: "a@x", recipients: ["b@bücher.example"] }), true);
    assert.equal(
      needsSmtpUtf8({ from: "a@x", recipients: ["b@y"] }, enc("Subject: héllo\r\n\r\nbody")),
      true,
    );
    assert.equal(
      needsSmtpUtf8({ from: "a@x", recipients: ["b@y"] }, enc("Subject: hello\r\n\r\nbødy")),
      false,
    );
  });
});
