import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { Base64Encoder, base64Size } from "../../lib/message/base64.ts";
import { dec } from "./helpers.ts";

/** Reference: Node's base64, cut into 76-character CRLF lines. */
const reference = (b: Uint8Array) => (Buffer.from(b).toString("base64").match(/.{1,76}/g) ?? []).map((l) => l + "\r\n").join("");

describe("streaming base64", () => {
  it("any chunking gives the reference bytes; base64Size is exact; input buffers may be reused", () => {
    for (const n of [0, 1, 2, 3, 56, 57, 58, 114, 1000, 4099]) {
      const data = new Uint8Array(randomBytes(n));
      for (const step of [1, 2, 5, 56, 57, 58, 1000]) {
        const e = new Base64Encoder();
        const scratch = new Uint8Array(step);
        let out = "";
        for (let i = 0; i < n; i += step) {
          const len = Math.min(step, n - i);
          scratch.set(data.subarray(i, i + len));
          out += dec(e.push(scratch.subarray(0, len)));
          scratch.fill(0); // the encoder must not keep a reference to it
        }
        out += dec(e.end());
        assert.equal(out, reference(data), `n=${n} step=${step}`);
        assert.equal(out.length, base64Size(n));
      }
    }
  });
});
