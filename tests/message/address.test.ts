import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatAddressList, formatMailbox, parseAddressList, parseMailbox } from "../../lib/message/address.ts";
import { MailplanError } from "../../lib/codes.ts";
import { decodeWords } from "./helpers.ts";

const invalid = (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID";

describe("address parsing", () => {
  it("bare, angle and display-name forms; envelope gets the bare address", () => {
    assert.deepEqual(parseMailbox("a@x.org", "recipient"), { address: "a@x.org", smtpUtf8: false });
    assert.deepEqual(parseMailbox(" <a@x.org> ", "recipient"), { address: "a@x.org", smtpUtf8: false });
    assert.deepEqual(parseMailbox("Alice Smith <a@x.org>", "sender"), { address: "a@x.org", name: "Alice Smith", smtpUtf8: false });
    assert.deepEqual(parseMailbox('"Doe, \\"JD\\" Jane" <j@x.org>', "recipient"), { address: "j@x.org", name: 'Doe, "JD" Jane', smtpUtf8: false });
  });

  it("lists split on commas outside quotes; arrays are repeated flags; empty items skipped", () => {
    const l = parseAddressList(['a@x,"Doe, Jane" <j@y>, ', "b@z"], "recipient");
    assert.deepEqual(l.map((m) => m.address), ["a@x", "j@y", "b@z"]);
    assert.equal(l[1].name, "Doe, Jane");
    assert.deepEqual(parseAddressList("", "recipient"), []);
  });

  it("CR/LF/NUL anywhere → MESSAGE_INVALID (R8)", () => {
    for (const s of ["a@x\r\nRCPT TO:<e@vil>", "Name\n <a@x>", "a@x\r", "a@x\0"]) {
      assert.throws(() => parseMailbox(s, "recipient"), invalid);
      assert.throws(() => parseAddressList(`ok@x,${s}`, "recipient"), invalid);
    }
  });

  it("malformed forms rejected", () => {
    for (const s of ["Name <a@x", "a@x>", "Name <>", "not-an-address", '"unterminated <a@x>', "a b@x"]) {
      assert.throws(() => parseMailbox(s, "recipient"), invalid, s);
    }
  });

  it("non-ASCII local part flags SMTPUTF8; IDN domains kept as given (and flagged)", () => {
    assert.equal(parseMailbox("josé@example.com", "recipient").smtpUtf8, true);
    const idn = parseMailbox("a@bücher.example", "recipient");
    assert.equal(idn.address, "a@bücher.example");
    assert.equal(idn.smtpUtf8, true);
    assert.equal(parseMailbox("Zoë <a@x.org>", "recipient").smtpUtf8, false);
  });

  it("header form: atoms as is, specials quoted, non-ASCII encoded", () => {
    assert.equal(formatMailbox({ address: "a@x", smtpUtf8: false }), "a@x");
    assert.equal(formatMailbox({ address: "a@x", name: "Ops Team", smtpUtf8: false }), "Ops Team <a@x>");
    assert.equal(formatMailbox({ address: "a@x", name: "Doe, J.", smtpUtf8: false }), '"Doe, J." <a@x>');
    assert.equal(formatMailbox({ address: "a@x", name: 'a"b', smtpUtf8: false }), '"a\\"b" <a@x>');
    const z = formatMailbox({ address: "a@x", name: "Zoë", smtpUtf8: false });
    assert.equal(z, "=?UTF-8?Q?Zo=C3=AB?= <a@x>");
    assert.equal(decodeWords(z.slice(0, z.indexOf(" <"))), "Zoë");
    assert.equal(formatAddressList(parseAddressList("a@x, B <b@y>", "recipient")), "a@x, B <b@y>");
  });
});
