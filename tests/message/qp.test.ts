import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeQpLine, encodeQuotedPrintable } from "../../lib/message/qp.ts";
import { chooseTextEncoding } from "../../lib/message/transfer-encoding.ts";
import { decodeQp, enc, maxLineOctets } from "./helpers.ts";

describe("quoted-printable", () => {
  it("long lines get soft breaks, each encoded line ≤ 76, round trip exact", () => {
    const line = enc("é".repeat(50) + "a".repeat(200) + "=".repeat(30));
    const out = encodeQpLine(line);
    assert.ok(out.includes("=\r\n"));
    assert.ok(maxLineOctets(out) <= 76);
    assert.deepEqual(decodeQp(out), line);
  });

  it("=XX escapes are never split by a soft break", () => {
    for (let pad = 0; pad < 6; pad++) {
      const out = encodeQpLine(enc("a".repeat(70 + pad) + "ééé"));
      for (const l of out.split("\r\n")) {
        const content = l.endsWith("=") && !/=[0-9A-F]{2}$/.test(l) ? l.slice(0, -1) : l;
        assert.ok(!/=[0-9A-F]?$/.test(content), l);
      }
      assert.deepEqual(decodeQp(out), enc("a".repeat(70 + pad) + "ééé"));
      assert.ok(maxLineOctets(out) <= 76);
    }
  });

  it("trailing space and tab encoded; inner whitespace kept", () => {
    assert.equal(encodeQpLine(enc("a b ")), "a b=20");
    assert.equal(encodeQpLine(enc("tab\t")), "tab=09");
    assert.equal(encodeQpLine(enc("x=1")), "x=3D1");
    assert.equal(encodeQuotedPrintable([enc("one "), enc("two"), enc("")]), "one=20\r\ntwo\r\n");
  });

  it("trailing whitespace just before a soft break is safe", () => {
    const out = encodeQpLine(enc("a".repeat(74) + " " + "b".repeat(10)));
    assert.ok(out.split("\r\n").every((l) => !/[ \t]$/.test(l)));
    assert.deepEqual(decodeQp(out), enc("a".repeat(74) + " " + "b".repeat(10)));
  });

  it("transfer encoding choice", () => {
    assert.equal(chooseTextEncoding([enc("hello")], false), "7bit");
    assert.equal(chooseTextEncoding([enc("a".repeat(998))], false), "7bit");
    assert.equal(chooseTextEncoding([enc("a".repeat(999))], false), "quoted-printable");
    assert.equal(chooseTextEncoding([enc("a".repeat(999))], true), "quoted-printable");
    assert.equal(chooseTextEncoding([enc("café")], false), "quoted-printable");
    assert.equal(chooseTextEncoding([enc("café")], true), "8bit");
    assert.equal(chooseTextEncoding([enc("trailing ")], false), "quoted-printable");
    assert.equal(chooseTextEncoding([enc("nul\0")], true), "quoted-printable");
  });
});
