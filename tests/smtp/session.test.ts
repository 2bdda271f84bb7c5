import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { encodeBase64 } from "../../lib/smtp/base64.ts";
import { SmtpError } from "../../lib/smtp/errors.ts";
import { SmtpSession } from "../../lib/smtp/session.ts";
import type { SessionOptions } from "../../lib/smtp/types.ts";
import { assertFail, assertNothingSent, FACTS, run } from "./transcript.ts";

const opts = (o: Partial<SessionOptions> = {}): SessionOptions => ({
  strategy: "starttls",
  tls: "required",
  helo: "client.test",
  envelope: { from: "a@x.test", recipients: ["b@y.test"] },
  ...o,
});
const AUTH = { mechanism: "auto" as const, user: "me", password: "secret" };
const PLAIN_IR = encodeBase64("\0me\0secret");

const TLS_PREFIX = `
  S: 220 mx.test ESMTP
  C: EHLO client.test
  S: 250-mx.test
  S: 250 STARTTLS
  C: STARTTLS
  S: 220 2.0.0 Ready to start TLS
  TLS
  C: EHLO client.test
`;

const HAPPY = `
  S: 220 mx.test ESMTP
  C: EHLO client.test
  S: 250-mx.test Hello
  S: 250-PIPELINING
  S: 250-AUTH PLAIN
  S: 250 STARTTLS
  C: STARTTLS
  S: 220 2.0.0 Ready to start TLS
  TLS
  C: EHLO client.test
  S: 250-mx.test Hello
  S: 250-PIPELINING
  S: 250-SIZE 10000
  S: 250 AUTH PLAIN LOGIN
  C: AUTH PLAIN ${PLAIN_IR}
  S: 235 2.7.0 Authentication successful
  C: MAIL FROM:<a@x.test> SIZE=120
  C: RCPT TO:<b@y.test>
  C: RCPT TO:<c@y.test>
  C: DATA
  S: 250 2.1.0 Ok
  S: 250 2.1.5 Ok
  S: 250 2.1.5 Ok
  S: 354 End data with <CR><LF>.<CR><LF>
  BODY
  S: 250 2.0.0 Ok: queued as ABC
  C: QUIT
  S: 221 2.0.0 Bye
`;
const HAPPY_OPTS = opts({
  auth: { ...AUTH, mechanism: "plain" },
  messageSize: 120,
  envelope: { from: "a@x.test", recipients: ["b@y.test", "c@y.test"] },
});

describe("session: happy paths", () => {
  it("STARTTLS, AUTH PLAIN, pipelined MAIL/RCPT/DATA in one send, QUIT", () => {
    const o = run(HAPPY_OPTS, HAPPY);
    assert.ok(o.result && !o.error);
    assert.deepEqual(o.result.accepted, ["b@y.test", "c@y.test"]);
    assert.deepEqual(o.result.rejected, []);
    assert.deepEqual(o.result.response, { code: 250, text: "2.0.0 Ok: queued as ABC" });
    assert.deepEqual(o.result.tls, FACTS);
    assert.equal(o.result.authenticated, "PLAIN");
    assert.equal(o.result.error, undefined);
    assert.deepEqual(o.result.capabilities?.SIZE, ["10000"]);
    // RFC 2920: MAIL + RCPTs + DATA in ONE send action
    const batch = o.actions.find((a) =>
      a.type === "send" && new TextDecoder().decode(a.bytes).startsWith("MAIL")
    );
    assert.ok(batch && batch.type === "send");
    assert.equal(
      new TextDecoder().decode(batch.bytes),
      "MAIL FROM:<a@x.test> SIZE=120\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n",
    );
    // transcript form hides the credentials
    assert.ok(o.client.includes(PLAIN_IR));
    assert.ok(!o.redacted.includes(PLAIN_IR));
    assert.ok(o.redacted.includes("AUTH PLAIN ***\r\n"));
  });

  for (const segment of [1, 2, 3, 7]) {
    it(`same transcript with server bytes delivered ${segment} at a time`, () => {
      const o = run(HAPPY_OPTS, HAPPY, segment);
      assert.deepEqual(o.result?.response, { code: 250, text: "2.0.0 Ok: queued as ABC" });
    });
  }

  it("without PIPELINING: one command per reply; RECIPIENTS_REJECTED when some refused", () => {
    const o = run(
      opts({ envelope: { from: "a@x.test", recipients: ["b@y.test", "bad@y.test", "later@y.test"] } }),
      `
      ${TLS_PREFIX}
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: RCPT TO:<bad@y.test>
      S: 550 5.1.1 No such user
      C: RCPT TO:<later@y.test>
      S: 450 4.2.0 Try later
      C: DATA
      S: 354 go
      BODY
      S: 250 queued
      C: QUIT
      S: 221 bye
    `,
    );
    assert.deepEqual(o.result?.accepted, ["b@y.test"]);
    assert.deepEqual(o.result?.rejected, [
      { address: "bad@y.test", code: 550, text: "5.1.1 No such user" },
      { address: "later@y.test", code: 450, text: "4.2.0 Try later" },
    ]);
    assert.equal(o.error, undefined);
    assert.equal(o.result?.error?.code, "RECIPIENTS_REJECTED");
    assert.equal(o.result?.error?.temporary, false);
  });

  it("implicit TLS: tlsEstablished before the greeting, no STARTTLS", () => {
    const o = run(
      opts({ strategy: "implicit", auth: { ...AUTH, mechanism: "login" } }),
      `
      TLS!
      S: 220 mx.test ESMTP
      C: EHLO client.test
      S: 250-mx.test
      S: 250 AUTH LOGIN
      C: AUTH LOGIN
      S: 334 ${encodeBase64("Username:")}
      C: ${encodeBase64("me")}
      S: 334 ${encodeBase64("Password:")}
      C: ${encodeBase64("secret")}
      S: 235 ok
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.deepEqual(o.result?.tls, FACTS);
    assert.equal(o.result?.authenticated, "LOGIN");
    assert.ok(!o.redacted.includes(encodeBase64("secret")));
  });

  it("implicit TLS: plaintext bytes before the handshake → TLS_MODE_MISMATCH", () => {
    const o = run(opts({ strategy: "implicit" }), `S: 220 mx.test ESMTP`);
    const e = assertFail(o, "TLS_MODE_MISMATCH");
    assert.match(e.message, /starttls/);
  });

  it("plain strategy, tls none: clear session, tls null, null reverse-path", () => {
    const o = run(
      opts({ strategy: "plain", tls: "none", envelope: { from: "", recipients: ["b@y.test"] } }),
      `
      S: 220 mx.test
      C: EHLO client.test
      S: 250-mx.test
      S: 250 STARTTLS
      C: MAIL FROM:<>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.equal(o.result?.tls, null);
    assert.ok(!o.error);
  });

  it("tls none with strategy starttls never sends STARTTLS", () => {
    const o = run(
      opts({ tls: "none" }),
      `
      S: 220 mx.test
      C: EHLO client.test
      S: 250-mx.test
      S: 250 STARTTLS
      C: MAIL FROM:<a@x.test>
      S: 550 no
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "REJECTED", "mail", false);
    assert.equal(o.result?.tls, null);
  });

  it("probe mode (no envelope): EHLO, STARTTLS, EHLO, QUIT; capabilities after TLS only", () => {
    const o = run(
      opts({ envelope: undefined }),
      `
      S: 220 mx.test
      C: EHLO client.test
      S: 250-mx.test
      S: 250-AUTH PLAIN
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go
      TLS
      C: EHLO client.test
      S: 250-mx.test
      S: 250-SIZE 5000
      S: 250 AUTH LOGIN
      C: QUIT
      S: 221 bye
    `,
    );
    assert.deepEqual(o.result?.capabilities, { SIZE: ["5000"], AUTH: ["LOGIN"] });
  });

  it("QUIT answered by EOF or by garbage still ends in done", () => {
    for (const tail of ["EOF", `S! "garbage\\n"`, "TIMEOUT"]) {
      const o = run(
        opts({ tls: "none" }),
        `
        S: 220 mx.test
        C: EHLO client.test
        S: 250 mx.test
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        C: RCPT TO:<b@y.test>
        S: 250 ok
        C: DATA
        S: 354 go
        BODY
        S: 250 ok
        C: QUIT
        ${tail}
      `,
      );
      assert.ok(o.result && !o.error, tail);
    }
  });
});

describe("session: HELO fallback", () => {
  it("opportunistic: EHLO 502 → HELO, no extensions, clear", () => {
    const o = run(
      opts({ tls: "opportunistic" }),
      `
      S: 220 mx.test
      C: EHLO client.test
      S: 502 5.5.1 Unrecognized command
      C: HELO client.test
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.equal(o.result?.tls, null);
    assert.ok(!o.error);
    assert.equal(o.result?.capabilities, null);
  });

  it("after TLS (required), EHLO 500 → HELO is allowed", () => {
    const o = run(
      opts(),
      `
      ${TLS_PREFIX}
      S: 500 what
      C: HELO client.test
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.deepEqual(o.result?.tls, FACTS);
  });

  it("HELO refused → REJECTED", () => {
    const o = run(
      opts({ tls: "none" }),
      `
      S: 220 mx.test
      C: EHLO client.test
      S: 502 no
      C: HELO client.test
      S: 550 go away
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "REJECTED", "ehlo");
  });

  it("HELO fallback with 8-bit body → MESSAGE_INVALID, no MAIL", () => {
    const o = run(
      opts({ tls: "none", needs8bit: true }),
      `
      S: 220 mx.test
      C: EHLO client.test
      S: 502 no
      C: HELO client.test
      S: 250 mx.test
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "MESSAGE_INVALID", "mail");
    assertNothingSent(o);
  });
});

describe("session: SIZE, 8BITMIME, SMTPUTF8", () => {
  it("message over the SIZE limit → REJECTED before MAIL", () => {
    const o = run(
      opts({ messageSize: 2001 }),
      `
      ${TLS_PREFIX}
      S: 250-mx.test
      S: 250 SIZE 2000
      C: QUIT
      S: 221 bye
    `,
    );
    const e = assertFail(o, "REJECTED", "mail", false);
    assert.match(e.message, /2001 bytes.*2000 bytes/);
    assertNothingSent(o);
  });

  it("SIZE without a limit: declared, not checked; no SIZE offered: not declared", () => {
    const t = (caps: string, mail: string) =>
      run(
        opts({ messageSize: 99999 }),
        `
      ${TLS_PREFIX}
      S: 250-mx.test
      S: 250 ${caps}
      C: ${mail}
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
      );
    assert.ok(t("SIZE", "MAIL FROM:<a@x.test> SIZE=99999").result?.response);
    assert.ok(t("SIZE 0", "MAIL FROM:<a@x.test> SIZE=99999").result?.response);
    assert.ok(t("HELP", "MAIL FROM:<a@x.test>").result?.response);
  });

  it("8-bit body declares BODY=8BITMIME; SMTPUTF8 declared for a non-ASCII address", () => {
    const o = run(
      opts({ needs8bit: true, envelope: { from: "a@x.test", recipients: ["josé@y.test"] } }),
      `
      ${TLS_PREFIX}
      S: 250-mx.test
      S: 250-8BITMIME
      S: 250 SMTPUTF8
      C: MAIL FROM:<a@x.test> BODY=8BITMIME SMTPUTF8
      S: 250 ok
      C: RCPT TO:<josé@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.deepEqual(o.result?.accepted, ["josé@y.test"]);
    const rcpt = o.actions.find((a) => a.type === "send" && a.bytes[0] === 0x52);
    assert.ok(rcpt?.type === "send");
    assert.ok(rcpt.bytes.includes(0xc3), "address sent as UTF-8");
  });

  it("8-bit body and no 8BITMIME → MESSAGE_INVALID", () => {
    const o = run(
      opts({ needs8bit: true }),
      `
      ${TLS_PREFIX}
      S: 250-mx.test
      S: 250 SMTPUTF8
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "MESSAGE_INVALID", "mail");
    assertNothingSent(o);
  });

  it("SMTPUTF8 needed and not offered → MESSAGE_INVALID", () => {
    for (
      const o of [
        run(
          opts({ needsSmtpUtf8: true }),
          `${TLS_PREFIX}\nS: 250-mx.test\nS: 250 8BITMIME\nC: QUIT\nS: 221 bye`,
        ),
        run(
          opts({ envelope: { from: "ü@x.test", recipients: ["b@y.test"] } }),
          `${TLS_PREFIX}\nS: 250 mx.test\nC: QUIT\nS: 221 bye`,
        ),
      ]
    ) {
      assertFail(o, "MESSAGE_INVALID", "mail");
      assertNothingSent(o);
    }
  });
});

describe("session: AUTH", () => {
  const AUTH_PREFIX = TLS_PREFIX;

  it("auto picks CRAM-MD5 over PLAIN and LOGIN (RFC 2195 vector)", () => {
    const o = run(
      opts({ auth: { mechanism: "auto", user: "tim", password: "tanstaaftanstaaf" } }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH LOGIN PLAIN CRAM-MD5 XOAUTH2
      C: AUTH CRAM-MD5
      S: 334 ${encodeBase64("<1896.697170952@postoffice.reston.mci.net>")}
      C: dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw
      S: 235 ok
      C: MAIL FROM:<a@x.test>
      S: 421 bye
    `,
    );
    assertFail(o, "TEMPORARY_FAILURE", "mail", true);
    assert.equal(o.result?.authenticated, "CRAM-MD5");
    assert.ok(o.redacted.includes("***\r\n") && !o.redacted.includes("dGltIGI5"));
  });

  it("auto: PLAIN over LOGIN; legacy AUTH= form understood", () => {
    const o = run(
      opts({ auth: AUTH, envelope: undefined }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250-AUTH=LOGIN
      S: 250 AUTH LOGIN PLAIN
      C: AUTH PLAIN ${PLAIN_IR}
      S: 235 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.equal(o.result?.authenticated, "PLAIN");
  });

  it("auto never picks XOAUTH2 → AUTH_UNAVAILABLE", () => {
    const o = run(
      opts({ auth: AUTH }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH XOAUTH2
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "AUTH_UNAVAILABLE", "auth");
    assertNothingSent(o);
  });

  it("XOAUTH2 when asked: error challenge answered with an empty line, then 535 → AUTH_FAILED", () => {
    const ir = encodeBase64("user=me\x01auth=Bearer tok\x01\x01");
    const o = run(
      opts({ auth: { mechanism: "xoauth2", user: "me", password: "tok" } }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH XOAUTH2 PLAIN
      C: AUTH XOAUTH2 ${ir}
      S: 334 ${encodeBase64('{"status":"401"}')}
      C! "\\r\\n"
      S: 535 5.7.8 bad token
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "AUTH_FAILED", "auth", false);
    assertNothingSent(o, ["AUTH"]);
  });

  it("no AUTH offered → AUTH_UNAVAILABLE; 504 → AUTH_UNAVAILABLE; 454 → temporary", () => {
    assertFail(
      run(opts({ auth: AUTH }), `${AUTH_PREFIX}\nS: 250 mx.test\nC: QUIT\nS: 221 bye`),
      "AUTH_UNAVAILABLE",
      "auth",
    );
    const mk = (code: string) =>
      run(
        opts({ auth: { ...AUTH, mechanism: "login" } }),
        `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH LOGIN
      C: AUTH LOGIN
      S: ${code}
      C: QUIT
      S: 221 bye
    `,
      );
    assertFail(mk("504 5.5.4 nope"), "AUTH_UNAVAILABLE", "auth");
    assertFail(mk("454 4.7.0 later"), "TEMPORARY_FAILURE", "auth", true);
    assertFail(mk("535 5.7.8 bad"), "AUTH_FAILED", "auth", false);
    assertFail(mk("534 5.7.9 weak"), "AUTH_FAILED", "auth", false);
  });

  it("535 → AUTH_FAILED, QUIT, no MAIL", () => {
    const o = run(
      opts({ auth: { ...AUTH, mechanism: "plain" } }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH PLAIN
      C: AUTH PLAIN ${PLAIN_IR}
      S: 535 5.7.8 Authentication credentials invalid
      C: QUIT
      S: 221 bye
    `,
    );
    const e = assertFail(o, "AUTH_FAILED", "auth", false);
    assert.equal(e.reply?.code, 535);
    assert.equal(e.reply?.enhanced, "5.7.8");
    assertNothingSent(o, ["AUTH"]);
  });

  it("R7: endless 334 challenges stop after 10 rounds → AUTH_FAILED", () => {
    const prompt = encodeBase64("Password:");
    let script = `${AUTH_PREFIX}\nS: 250-mx.test\nS: 250 AUTH LOGIN\nC: AUTH LOGIN\n`;
    for (let i = 0; i < 10; i++) script += `S: 334 ${prompt}\nC: ${encodeBase64("secret")}\n`;
    script += `S: 334 ${prompt}\n`;
    const o = run(opts({ auth: { ...AUTH, mechanism: "login" } }), script);
    assertFail(o, "AUTH_FAILED", "auth");
    assert.ok(!o.client.includes("MAIL"));
  });

  it("R7: the challenge bound is configurable", () => {
    const o = run(
      opts({ auth: { ...AUTH, mechanism: "login" }, limits: { maxAuthRounds: 1 } }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH LOGIN
      C: AUTH LOGIN
      S: 334 ${encodeBase64("Username:")}
      C: ${encodeBase64("me")}
      S: 334 ${encodeBase64("Password:")}
    `,
    );
    assertFail(o, "AUTH_FAILED", "auth");
  });

  for (const bad of ["not base64!", "QUJD=", "QQ=A", "QR==", "a b c"]) {
    it(`R7: invalid base64 challenge ${JSON.stringify(bad)} → PROTOCOL_ERROR`, () => {
      const o = run(
        opts({ auth: { ...AUTH, mechanism: "login" } }),
        `
        ${AUTH_PREFIX}
        S: 250-mx.test
        S: 250 AUTH LOGIN
        C: AUTH LOGIN
        S: 334 ${bad}
      `,
      );
      assertFail(o, "PROTOCOL_ERROR", "auth");
      assert.ok(!o.client.includes(encodeBase64("me")));
    });
  }

  it("CRAM-MD5 with an empty challenge → PROTOCOL_ERROR; a second challenge → PROTOCOL_ERROR", () => {
    const base = `${AUTH_PREFIX}\nS: 250-mx.test\nS: 250 AUTH CRAM-MD5\nC: AUTH CRAM-MD5\n`;
    assertFail(run(opts({ auth: AUTH }), base + "S: 334 \n"), "PROTOCOL_ERROR", "auth");
    const digest = createHmac("md5", "secret").update("<1@x>").digest("hex");
    const o = run(
      opts({ auth: AUTH }),
      base +
        `S: 334 ${encodeBase64("<1@x>")}\nC: ${encodeBase64("me " + digest)}\nS: 334 ${
          encodeBase64("<2@x>")
        }\n`,
    );
    assertFail(o, "PROTOCOL_ERROR", "auth");
  });

  it("a multi-line 334 is a PROTOCOL_ERROR", () => {
    const o = run(
      opts({ auth: { ...AUTH, mechanism: "login" } }),
      `
      ${AUTH_PREFIX}
      S: 250-mx.test
      S: 250 AUTH LOGIN
      C: AUTH LOGIN
      S: 334-VXNlcm5hbWU6
      S: 334 VXNlcm5hbWU6
    `,
    );
    assertFail(o, "PROTOCOL_ERROR", "auth");
  });
});

describe("session: option validation before any byte (R8)", () => {
  const throws = (o: Partial<SessionOptions>, code: string) =>
    assert.throws(() => new SmtpSession(opts(o)), (e: unknown) => e instanceof SmtpError && e.code === code);
  it("CR/LF/NUL in the EHLO name → CONFIG_INVALID", () => {
    for (const helo of ["a\r\nMAIL FROM:<x>", "a\nb", "a\rb", "a\0b", "", "a b"]) {
      throws({ helo }, "CONFIG_INVALID");
    }
  });
  it("CR/LF in an address → MESSAGE_INVALID", () => {
    throws({ envelope: { from: "a@x\r\nRCPT TO:<evil@x>", recipients: ["b@y"] } }, "MESSAGE_INVALID");
    throws({ envelope: { from: "a@x", recipients: ["b@y", "c@y\nDATA"] } }, "MESSAGE_INVALID");
    throws({ envelope: { from: "a@x", recipients: ["b@y>"] } }, "MESSAGE_INVALID");
    throws({ envelope: { from: "a@x", recipients: [] } }, "MESSAGE_INVALID");
    throws({ envelope: { from: "a@x", recipients: [""] } }, "MESSAGE_INVALID");
  });
  it("CR/LF in the AUTH user, NUL/CR/LF in the password → CONFIG_INVALID (password never echoed)", () => {
    throws({ auth: { ...AUTH, user: "me\r\nQUIT" } }, "CONFIG_INVALID");
    try {
      new SmtpSession(opts({ auth: { ...AUTH, password: "hunter2\n" } }));
      assert.fail("should throw");
    } catch (e) {
      assert.ok(e instanceof SmtpError && e.code === "CONFIG_INVALID");
      assert.ok(!e.message.includes("hunter2"));
    }
  });
  it("strategy plain with tls required → CONFIG_INVALID", () => {
    throws({ strategy: "plain", tls: "required" }, "CONFIG_INVALID");
  });
});

describe("session: engine misuse and end of session", () => {
  it("tlsEstablished / bodySent at the wrong time throw", () => {
    const s = new SmtpSession(opts());
    assert.throws(() => s.tlsEstablished(FACTS), /tlsEstablished/);
    assert.throws(() => s.bodySent(), /bodySent/);
  });
  it("after the end every method returns no action", () => {
    const o = run(opts(), `S: 554 no\nC: QUIT`);
    assert.equal(o.session.waiting, "reply");
    const s = run(opts(), `S: 421 later`).session;
    assert.equal(s.waiting, "nothing");
    assert.deepEqual(s.receive(new TextEncoder().encode("250 ok\r\n")), []);
    assert.deepEqual(s.closed(), []);
    assert.deepEqual(s.timeout(), []);
  });
  it("phase and waiting follow the session", () => {
    const s = new SmtpSession(opts());
    assert.equal(s.phase, "greeting");
    assert.equal(s.waiting, "reply");
    s.receive(new TextEncoder().encode("220 hi\r\n"));
    assert.equal(s.phase, "ehlo");
    s.receive(new TextEncoder().encode("250-mx\r\n250 STARTTLS\r\n"));
    assert.equal(s.phase, "starttls");
    s.receive(new TextEncoder().encode("220 go\r\n"));
    assert.equal(s.phase, "tls");
    assert.equal(s.waiting, "tls");
  });
});

/** `check --login` (issue 11 §5): no envelope and AUTH configured = quit after AUTH, as swaks's --quit-after AUTH. */
describe("login check: TLS and AUTH, then QUIT, never MAIL", () => {
  it("a right password: AUTH after TLS, 235, QUIT; authenticated is recorded", () => {
    const o = run(
      opts({ auth: AUTH, envelope: undefined }),
      `
      ${TLS_PREFIX}
      S: 250-mx.test
      S: 250 AUTH PLAIN LOGIN
      C: AUTH PLAIN ${PLAIN_IR}
      S: 235 2.7.0 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.equal(o.error, undefined);
    assert.equal(o.result?.authenticated, "PLAIN");
    assertNothingSent(o, ["AUTH"]);
    assert.ok(!o.redacted.includes(PLAIN_IR));
  });
  it("a wrong password: 535 is AUTH_FAILED, then QUIT, and no MAIL", () => {
    const o = run(
      opts({ auth: AUTH, envelope: undefined }),
      `
      ${TLS_PREFIX}
      S: 250-mx.test
      S: 250 AUTH PLAIN LOGIN
      C: AUTH PLAIN ${PLAIN_IR}
      S: 535 5.7.8 Authentication credentials invalid
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "AUTH_FAILED", "auth", false);
    assertNothingSent(o, ["AUTH"]);
  });
  it("no STARTTLS offered under tls: required: fails before AUTH (the password is never sent)", () => {
    const o = run(
      opts({ auth: AUTH, envelope: undefined }),
      `
      S: 220 mx.test ESMTP
      C: EHLO client.test
      S: 250-mx.test
      S: 250 AUTH PLAIN LOGIN
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "STARTTLS_UNAVAILABLE");
    assertNothingSent(o);
  });
});
