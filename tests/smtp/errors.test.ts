import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { escapeServerText, SmtpError } from "../../lib/smtp/errors.ts";
import type { DeliveryError } from "../../lib/engine/types.ts";

describe("SmtpError", () => {
  it("carries code, phase, temporary, hint, reply; is an Error", () => {
    const e = new SmtpError({
      code: "REJECTED",
      phase: "rcpt",
      message: "No.",
      reply: { code: 550, enhanced: "5.1.1", text: "unknown" },
    });
    assert.ok(e instanceof Error);
    assert.equal(e.name, "SmtpError");
    assert.equal(e.temporary, false);
    assert.equal(e.hint, "");
    assert.deepEqual(e.toJSON(), {
      code: "REJECTED",
      phase: "rcpt",
      temporary: false,
      message: "No.",
      hint: "",
      reply: { code: 550, enhanced: "5.1.1", text: "unknown" },
    });
    const m = e.withPhase("data");
    assert.equal(m.phase, "data");
    assert.equal(m.code, "REJECTED");
    assert.deepEqual(m.reply, e.reply);
  });
});

describe("escapeServerText", () => {
  it("control characters, ESC, NUL, BEL, DEL, C1 as \\xNN", () => {
    assert.equal(
      escapeServerText("a\x1b[31mb\x07\x00\x7f\x9b\r\n\t"),
      "a\\x1b[31mb\\x07\\x00\\x7f\\x9b\\x0d\\x0a\\x09",
    );
  });
  it("bidi and line separators as \\u{…}; ordinary Unicode kept", () => {
    assert.equal(escapeServerText("x\u202ey\u2028z"), "x\\u{202e}y\\u{2028}z");
    assert.equal(escapeServerText("café ✓"), "café ✓");
  });
  it("long text is cut", () => {
    assert.equal(escapeServerText("x".repeat(10), 4), "xxxx…");
    assert.equal(escapeServerText("x".repeat(4), 4), "xxxx");
  });
});

it("toJSON() is typed as the contract's error object: assignable to the engine's DeliveryError without a cast", () => {
  const e = new SmtpError({ code: "REJECTED", phase: "mail", message: "m", hint: "h", reply: { code: 550, text: "no" } });
  const json: DeliveryError = e.toJSON(); // `deno check` fails here if the shapes drift apart
  assert.deepEqual(Object.keys(json), ["code", "phase", "temporary", "message", "hint", "reply"]);
  assert.deepEqual(json.reply, { code: 550, text: "no" });
});
