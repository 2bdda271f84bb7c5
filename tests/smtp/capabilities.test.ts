import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { authMechanisms, parseCapabilities, sizeLimit } from "../../lib/smtp/capabilities.ts";
import { ReplyParser } from "../../lib/smtp/reply.ts";

const caps = (...lines: string[]) => {
  const text = lines.map((l, i) => `250${i === lines.length - 1 ? " " : "-"}${l}\r\n`).join("");
  return parseCapabilities(new ReplyParser().feed(new TextEncoder().encode(text))[0]);
};

describe("capabilities", () => {
  it("keywords upper-cased, params kept, first line skipped", () => {
    const c = caps(
      "mx.test STARTTLS greets you",
      "pipelining",
      "Size 1000",
      "AUTH PLAIN login",
      "8BITMIME",
      "SMTPUTF8",
    );
    assert.deepEqual([...c.keys()], ["PIPELINING", "SIZE", "AUTH", "8BITMIME", "SMTPUTF8"]);
    assert.deepEqual(c.get("SIZE"), ["1000"]);
    assert.deepEqual(authMechanisms(c), ["PLAIN", "LOGIN"]);
    assert.equal(c.has("STARTTLS"), false, "words of the greeting line are not capabilities");
  });

  it("whole words only: XSTARTTLSX, STARTTLSX, X-STARTTLS are not STARTTLS", () => {
    const c = caps("mx", "XSTARTTLSX", "STARTTLSX", "X-STARTTLS", "NOSTARTTLS");
    assert.equal(c.has("STARTTLS"), false);
    assert.equal(caps("mx", "starttls").has("STARTTLS"), true);
    assert.equal(caps("mx", "STARTTLS extra").has("STARTTLS"), true);
  });

  it("AUTH as a parameter of another keyword is not AUTH", () => {
    const c = caps("mx", "X-FOO AUTH PLAIN");
    assert.equal(c.has("AUTH"), false);
    assert.deepEqual(authMechanisms(c), []);
  });

  it("legacy AUTH=PLAIN LOGIN merged with AUTH", () => {
    assert.deepEqual(authMechanisms(caps("mx", "AUTH=PLAIN LOGIN")), ["PLAIN", "LOGIN"]);
    assert.deepEqual(authMechanisms(caps("mx", "AUTH LOGIN", "AUTH=LOGIN CRAM-MD5")), ["LOGIN", "CRAM-MD5"]);
  });

  it("invalid keywords ignored, tabs and repeated spaces tolerated", () => {
    const c = caps("mx", "=BAD", "-X", "", "SIZE\t\t500", "AUTH   PLAIN");
    assert.deepEqual([...c.keys()], ["SIZE", "AUTH"]);
    assert.equal(sizeLimit(c), 500);
  });

  it("lookups take a known keyword (a typo does not compile); iteration still shows every keyword sent", () => {
    const c = caps("mx", "STARTTLS", "X-FOO bar");
    assert.equal(c.has("STARTTLS"), true);
    // @ts-expect-error "STARTLS" is not a CapabilityKeyword: a misspelt check fails `deno check`
    assert.equal(c.has("STARTLS"), false);
    assert.deepEqual([...c.keys()], ["STARTTLS", "X-FOO"]);
    assert.deepEqual([...c], [["STARTTLS", []], ["X-FOO", ["bar"]]]);
  });

  it("SIZE: number, 0/no limit, absent, garbage", () => {
    assert.equal(sizeLimit(caps("mx", "SIZE 35882577")), 35882577);
    assert.equal(sizeLimit(caps("mx", "SIZE")), 0);
    assert.equal(sizeLimit(caps("mx", "SIZE 0")), 0);
    assert.equal(sizeLimit(caps("mx", "PIPELINING")), null);
    assert.equal(sizeLimit(caps("mx", "SIZE lots")), null);
    assert.equal(sizeLimit(caps("mx", "SIZE -5")), null);
  });
});
