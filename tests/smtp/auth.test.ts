import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cramMd5 } from "../../lib/smtp/auth/cram-md5.ts";
import { login } from "../../lib/smtp/auth/login.ts";
import { plain } from "../../lib/smtp/auth/plain.ts";
import { selectMechanism } from "../../lib/smtp/auth/select.ts";
import { xoauth2 } from "../../lib/smtp/auth/xoauth2.ts";
import { decodeBase64, encodeBase64 } from "../../lib/smtp/base64.ts";
import { SmtpError } from "../../lib/smtp/errors.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b64: string) => new TextDecoder().decode(decodeBase64(b64)!);
const protocolError = (fn: () => unknown) =>
  assert.throws(fn, (e: unknown) => e instanceof SmtpError && e.code === "PROTOCOL_ERROR");

describe("base64", () => {
  it("RFC 4648 §10 vectors both ways", () => {
    const v: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plainText, b64] of v) {
      assert.equal(encodeBase64(plainText), b64);
      assert.equal(dec(b64), plainText);
    }
    const all = new Uint8Array(256).map((_, i) => i);
    assert.deepEqual(decodeBase64(encodeBase64(all)), all);
  });
  it("strict: rejects bad alphabet, length, padding, trailing bits", () => {
    for (
      const bad of ["Zg", "Zg=", "Z===", "Zm9v!", "Zm 9v", "Zh==", "Zm9=", "=Zm9", "Zg==Zg==", "Zm-_", "Zé=="]
    ) {
      assert.equal(decodeBase64(bad), null, bad);
    }
  });
});

describe("SASL step functions", () => {
  const cred = { user: "tim", password: "tanstaaftanstaaf" };

  it("PLAIN: initial response \\0user\\0password (RFC 4616)", () => {
    const c = plain({ user: "u", password: "p" });
    assert.equal(c.name, "PLAIN");
    assert.equal(c.initial, "AHUAcA==");
    assert.equal(c.respond(new Uint8Array(), 1), "AHUAcA==");
    protocolError(() => c.respond(enc("x"), 1));
    protocolError(() => c.respond(new Uint8Array(), 2));
  });

  it("LOGIN: by prompt, else by position; a third unknown challenge is an error", () => {
    const c = login(cred);
    assert.equal(c.initial, undefined);
    assert.equal(dec(c.respond(enc("Username:"), 1)), "tim");
    assert.equal(dec(c.respond(enc("Password:"), 2)), "tanstaaftanstaaf");
    assert.equal(dec(c.respond(enc("Password:"), 1)), "tanstaaftanstaaf");
    assert.equal(dec(c.respond(enc("who?"), 1)), "tim");
    assert.equal(dec(c.respond(enc("secret?"), 2)), "tanstaaftanstaaf");
    protocolError(() => c.respond(enc("what now?"), 3));
  });

  it("CRAM-MD5: RFC 2195 §2 example", () => {
    const c = cramMd5(cred);
    assert.equal(c.initial, undefined);
    const r = c.respond(enc("<1896.697170952@postoffice.reston.mci.net>"), 1);
    assert.equal(r, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    assert.equal(dec(r), "tim b913a602c7eda7a495b4e6e7334d3890");
    protocolError(() => c.respond(new Uint8Array(), 1));
    protocolError(() => c.respond(enc("<x>"), 2));
  });

  it("XOAUTH2: initial response format; error challenge answered with an empty line", () => {
    const c = xoauth2({
      user: "someuser@example.com",
      password: "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
    });
    assert.equal(
      dec(c.initial!),
      "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01",
    );
    assert.equal(c.respond(enc('{"status":"401"}'), 1), "");
    protocolError(() => c.respond(enc("{}"), 2));
  });
});

describe("mechanism selection", () => {
  const cred = { user: "u", password: "p" };
  it("auto: CRAM-MD5 > PLAIN > LOGIN, never XOAUTH2", () => {
    assert.equal(selectMechanism("auto", ["LOGIN", "PLAIN", "CRAM-MD5", "XOAUTH2"], cred).name, "CRAM-MD5");
    assert.equal(selectMechanism("auto", ["LOGIN", "PLAIN", "XOAUTH2"], cred).name, "PLAIN");
    assert.equal(selectMechanism("auto", ["XOAUTH2", "LOGIN"], cred).name, "LOGIN");
    assert.throws(
      () => selectMechanism("auto", ["XOAUTH2", "GSSAPI"], cred),
      (e: unknown) => e instanceof SmtpError && e.code === "AUTH_UNAVAILABLE",
    );
  });
  it("explicit mechanism must be offered", () => {
    assert.equal(selectMechanism("xoauth2", ["XOAUTH2"], cred).name, "XOAUTH2");
    assert.equal(selectMechanism("login", ["LOGIN", "PLAIN"], cred).name, "LOGIN");
    assert.throws(
      () => selectMechanism("cram-md5", ["PLAIN"], cred),
      (e: unknown) => e instanceof SmtpError && e.code === "AUTH_UNAVAILABLE" && /CRAM-MD5/.test(e.message),
    );
  });
  it("offered list is escaped in the message", () => {
    assert.throws(
      () => selectMechanism("auto", ["\x1b[31m"], cred),
      (e: unknown) => e instanceof SmtpError && !e.message.includes("\x1b"),
    );
  });
});
