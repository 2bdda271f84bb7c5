import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as cmd from "../../lib/smtp/command.ts";
import { SmtpError } from "../../lib/smtp/errors.ts";

const fails = (fn: () => unknown, code: string) =>
  assert.throws(fn, (e: unknown) => e instanceof SmtpError && e.code === code);

describe("commands", () => {
  it("format", () => {
    assert.equal(cmd.ehlo("client.test"), "EHLO client.test\r\n");
    assert.equal(cmd.helo("client.test"), "HELO client.test\r\n");
    assert.equal(cmd.mailFrom("a@x"), "MAIL FROM:<a@x>\r\n");
    assert.equal(cmd.mailFrom(""), "MAIL FROM:<>\r\n");
    assert.equal(
      cmd.mailFrom("a@x", { size: 1234, body8bit: true, smtputf8: true }),
      "MAIL FROM:<a@x> SIZE=1234 BODY=8BITMIME SMTPUTF8\r\n",
    );
    assert.equal(cmd.rcptTo("b@y"), "RCPT TO:<b@y>\r\n");
    assert.equal(cmd.data(), "DATA\r\n");
    assert.equal(cmd.rset(), "RSET\r\n");
    assert.equal(cmd.quit(), "QUIT\r\n");
    assert.equal(cmd.starttls(), "STARTTLS\r\n");
    assert.equal(cmd.auth("LOGIN"), "AUTH LOGIN\r\n");
    assert.equal(cmd.auth("PLAIN", "AHUAcA=="), "AUTH PLAIN AHUAcA==\r\n");
    assert.equal(cmd.auth("PLAIN", ""), "AUTH PLAIN =\r\n");
    assert.equal(cmd.authResponse(""), "\r\n");
    assert.equal(cmd.authResponse("*"), "*\r\n");
  });

  describe("R8: CR, LF, NUL rejected in every argument", () => {
    for (const bad of ["\r", "\n", "\r\n", "\0", "\x1b", "\x7f"]) {
      const inj = `a${bad}RCPT TO:<evil@x>`;
      it(`${JSON.stringify(bad)}`, () => {
        fails(() => cmd.ehlo(inj), "CONFIG_INVALID");
        fails(() => cmd.helo(inj), "CONFIG_INVALID");
        fails(() => cmd.mailFrom(inj), "MESSAGE_INVALID");
        fails(() => cmd.rcptTo(inj), "MESSAGE_INVALID");
        fails(() => cmd.authResponse(inj), "CONFIG_INVALID");
        fails(() => cmd.auth("PLAIN", inj), "CONFIG_INVALID");
        fails(() => cmd.checkArgument(inj, "user", "CONFIG_INVALID", "auth"), "CONFIG_INVALID");
      });
    }
    it("the error message escapes the value and names the character", () => {
      try {
        cmd.rcptTo("a@x\r\nDATA");
        assert.fail();
      } catch (e) {
        assert.ok(e instanceof SmtpError);
        assert.equal(e.phase, "rcpt");
        assert.ok(!/[\r\n]/.test(e.message));
        assert.match(e.message, /a@x\\x0d\\x0aDATA.*carriage return/);
      }
    });
  });

  it("other malformed arguments", () => {
    fails(() => cmd.rcptTo(""), "MESSAGE_INVALID");
    fails(() => cmd.rcptTo("<b@y>"), "MESSAGE_INVALID");
    fails(() => cmd.mailFrom("a@x> SIZE=1"), "MESSAGE_INVALID");
    fails(() => cmd.rcptTo(" b@y"), "MESSAGE_INVALID");
    fails(() => cmd.ehlo(""), "CONFIG_INVALID");
    fails(() => cmd.ehlo("a b"), "CONFIG_INVALID");
    fails(() => cmd.mailFrom("a@x", { size: -1 }), "MESSAGE_INVALID");
    fails(() => cmd.mailFrom("a@x", { size: 1.5 }), "MESSAGE_INVALID");
    fails(() => cmd.auth("PLAIN\r\nMAIL"), "CONFIG_INVALID");
  });

  it("non-ASCII addresses pass through (SMTPUTF8 is the session's decision)", () => {
    assert.equal(cmd.rcptTo("josé@exämple.test"), "RCPT TO:<josé@exämple.test>\r\n");
  });
});
