// threats.md at the session level: N1–N12 (STARTTLS), R3–R6 (robustness). Fail closed means the
// named code AND no AUTH/MAIL/RCPT/DATA/body byte from the client (assertNothingSent).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/smtp/base64.ts";
import type { SessionOptions } from "../../lib/smtp/types.ts";
import { assertFail, assertNothingSent, run } from "./transcript.ts";

const opts = (o: Partial<SessionOptions> = {}): SessionOptions => ({
  strategy: "starttls",
  tls: "required",
  helo: "client.test",
  envelope: { from: "a@x.test", recipients: ["b@y.test"] },
  ...o,
});
const AUTH = { mechanism: "auto" as const, user: "me", password: "secret" };
const HELLO = `
  S: 220 mx.test ESMTP
  C: EHLO client.test
`;
const TO_STARTTLS = `
  ${HELLO}
  S: 250-mx.test
  S: 250-PIPELINING
  S: 250-AUTH PLAIN LOGIN
  S: 250 STARTTLS
  C: STARTTLS
`;

describe("threats N1–N12: STARTTLS negotiation", () => {
  it("N1: EHLO 502 with TLS required → STARTTLS_UNAVAILABLE, never HELO in clear", () => {
    const o = run(
      opts({ auth: AUTH }),
      `
      ${HELLO}
      S: 502 5.5.2 Error: command not recognized
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "STARTTLS_UNAVAILABLE", "ehlo", false);
    assert.ok(!o.client.includes("HELO"));
    assertNothingSent(o);
  });

  it("N2: AUTH offered but no STARTTLS → STARTTLS_UNAVAILABLE, no AUTH", () => {
    const o = run(
      opts({ auth: AUTH }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 AUTH PLAIN LOGIN
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "STARTTLS_UNAVAILABLE", "ehlo");
    assertNothingSent(o);
  });

  it("N2: STARTTLS only as a substring (XSTARTTLSX, STARTTLSX) does not count", () => {
    const o = run(
      opts({ auth: AUTH }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250-XSTARTTLSX
      S: 250-STARTTLSX
      S: 250 X-STARTTLS
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "STARTTLS_UNAVAILABLE", "ehlo");
  });

  it("N3: STARTTLS answered 502 → STARTTLS_REFUSED, not temporary", () => {
    const o = run(opts({ auth: AUTH }), `${TO_STARTTLS}\nS: 502 5.5.1 not implemented\nC: QUIT\nS: 221 bye`);
    assertFail(o, "STARTTLS_REFUSED", "starttls", false);
    assertNothingSent(o);
  });

  it("N4: STARTTLS answered 454 → STARTTLS_REFUSED, temporary", () => {
    const o = run(
      opts({ auth: AUTH }),
      `${TO_STARTTLS}\nS: 454 4.7.0 TLS not available\nC: QUIT\nS: 221 bye`,
    );
    const e = assertFail(o, "STARTTLS_REFUSED", "starttls", true);
    assert.equal(e.reply?.code, 454);
    assertNothingSent(o);
  });

  for (
    const [reply, temporary, quits] of [
      ["354 go ahead", false, true],
      ["221 bye", false, true],
      ["421 4.3.2 shutting down", true, false],
      ["500 what", false, true],
      ["530 5.7.0 must issue STARTTLS first", false, true],
      ["250 ok", false, true],
      ["999 NOSTARTTLS", false, false],
      ["220-almost\nS: 250 done", false, false],
    ] as const
  ) {
    it(`N5: STARTTLS answered ${JSON.stringify(reply)} → STARTTLS_REFUSED`, () => {
      const o = run(
        opts({ auth: AUTH }),
        `${TO_STARTTLS}\nS: ${reply}\n${quits ? "C: QUIT\nS: 221 bye" : ""}`,
      );
      assertFail(o, "STARTTLS_REFUSED", "starttls", temporary);
      assert.ok(!o.actions.some((a) => a.type === "starttls"));
      assertNothingSent(o);
    });
  }

  it("N6: 220 then the server keeps talking plaintext → STARTTLS_INJECTION, nothing more sent", () => {
    const o = run(opts({ auth: AUTH }), `${TO_STARTTLS}\nS: 220 go\nS: 250 hello in clear`, 0);
    // the second line arrived in the same chunk here; in a later chunk (below) it is caught too
    assertFail(o, "STARTTLS_INJECTION", "starttls");
    assertNothingSent(o);
    const o2 = run(opts({ auth: AUTH }), `${TO_STARTTLS}\nS: 220 go\nEXPECT starttls\nS: 250 hello in clear`);
    assertFail(o2, "STARTTLS_INJECTION", "starttls");
    assert.ok(o2.actions.some((a) => a.type === "starttls"));
    assertNothingSent(o2);
  });

  it("N6: the connection ends during the handshake → TLS_HANDSHAKE_FAILED, no plaintext retry", () => {
    const o = run(opts({ auth: AUTH }), `${TO_STARTTLS}\nS: 220 go\nEXPECT starttls\nEOF`);
    assertFail(o, "TLS_HANDSHAKE_FAILED", "tls");
    assertNothingSent(o);
    const t = run(opts({ auth: AUTH }), `${TO_STARTTLS}\nS: 220 go\nEXPECT starttls\nTIMEOUT`);
    assertFail(t, "TIMEOUT", "tls", true);
  });

  it("N7: 220 + injected EHLO reply in ONE segment → STARTTLS_INJECTION, no starttls action", () => {
    const o = run(
      opts({ auth: AUTH }),
      `${TO_STARTTLS}\nS! "220 Ready\\r\\n250-x\\r\\n250 AUTH PLAIN\\r\\n"`,
    );
    const e = assertFail(o, "STARTTLS_INJECTION", "starttls");
    assert.match(e.message, /bytes after its 220/);
    assert.ok(!o.actions.some((a) => a.type === "starttls"));
    assertNothingSent(o);
  });

  it("N7: even one trailing byte (a partial line) after the 220 is injection", () => {
    const o = run(opts(), `${TO_STARTTLS}\nS! "220 Ready\\r\\n2"`);
    assertFail(o, "STARTTLS_INJECTION", "starttls");
  });

  it("N8: injected future replies (235, 250 queued) are never acted on", () => {
    for (const policy of ["required", "opportunistic"] as const) {
      const o = run(
        opts({ tls: policy, auth: AUTH }),
        `${TO_STARTTLS}\nS! "220 go\\r\\n235 ok\\r\\n250 ok\\r\\n250 ok\\r\\n354 go\\r\\n250 queued\\r\\n"`,
      );
      assertFail(o, "STARTTLS_INJECTION", "starttls");
      assertNothingSent(o);
      assert.equal(o.result?.response, null);
    }
  });

  it("N8: replies arriving before STARTTLS was even sent → STARTTLS_INJECTION", () => {
    const o = run(opts(), `${HELLO}\nS: 250-mx.test\nS: 250 STARTTLS\nS: 220 go`);
    assertFail(o, "STARTTLS_INJECTION", "starttls");
    assert.ok(!o.client.includes("STARTTLS"));
  });

  it("N8: an unsolicited reply at any other step → PROTOCOL_ERROR, never success", () => {
    const o = run(opts({ tls: "none" }), `${HELLO}\nS: 250 mx.test\nS: 250 extra`);
    assertFail(o, "PROTOCOL_ERROR", "mail");
    assertNothingSent(o);
    const d = run(
      opts({ tls: "none" }),
      `
      ${HELLO}
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      S: 250 queued
    `,
    );
    assertFail(d, "PROTOCOL_ERROR", "data");
    assert.ok(!d.actions.some((a) => a.type === "send-body"));
  });

  it("N9: only post-TLS capabilities count", () => {
    // before TLS: PIPELINING, AUTH PLAIN, SIZE 10; after: AUTH LOGIN only
    const o = run(
      opts({ auth: AUTH, messageSize: 100 }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250-PIPELINING
      S: 250-SIZE 10
      S: 250-AUTH PLAIN
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go
      TLS
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
    assert.ok(o.result && !o.error);
    assert.deepEqual(o.result.capabilities, { AUTH: ["LOGIN"] });
    // and the reverse: 8BITMIME offered only in clear does not count
    const r = run(
      opts({ needs8bit: true }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250-8BITMIME
      S: 250 STARTTLS
      C: STARTTLS
      S: 220 go
      TLS
      C: EHLO client.test
      S: 250 mx.test
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(r, "MESSAGE_INVALID", "mail");
  });

  it("N10: 63 SASL mechanisms in plaintext, no STARTTLS → no AUTH (required and opportunistic)", () => {
    const mechs = Array.from(
      { length: 63 },
      (_, i) => (i === 5 ? "PLAIN" : i === 9 ? "LOGIN" : `X-MECH-${i}`),
    ).join(" ");
    const required = run(
      opts({ auth: AUTH }),
      `${HELLO}\nS: 250-mx.test\nS: 250 AUTH ${mechs}\nC: QUIT\nS: 221 bye`,
    );
    assertFail(required, "STARTTLS_UNAVAILABLE", "ehlo");
    assertNothingSent(required);
    const opp = run(
      opts({ tls: "opportunistic", auth: AUTH }),
      `${HELLO}\nS: 250-mx.test\nS: 250 AUTH ${mechs}\nC: QUIT\nS: 221 bye`,
    );
    assertFail(opp, "AUTH_UNAVAILABLE", "auth");
    assertNothingSent(opp);
  });

  it("N11: STARTTLS is sent alone even with PIPELINING", () => {
    const o = run(opts({ auth: AUTH }), `${TO_STARTTLS}\nS: 220 go\nTLS\nC: EHLO client.test\nEOF`);
    const sends = o.actions.filter((a) => a.type === "send").map((
      a,
    ) => (a.type === "send" ? new TextDecoder().decode(a.bytes) : ""));
    assert.deepEqual(sends, ["EHLO client.test\r\n", "STARTTLS\r\n", "EHLO client.test\r\n"]);
  });

  it("N12: opportunistic, STARTTLS not offered → continues in clear, tls null", () => {
    const o = run(
      opts({ tls: "opportunistic" }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 PIPELINING
      C: MAIL FROM:<a@x.test>
      C: RCPT TO:<b@y.test>
      C: DATA
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.ok(o.result && !o.error);
    assert.equal(o.result.tls, null);
  });

  it("N12: opportunistic with auth and no STARTTLS → AUTH_UNAVAILABLE; allowed with allowPlaintextAuth", () => {
    const o = run(
      opts({ tls: "opportunistic", auth: AUTH }),
      `${HELLO}\nS: 250-mx.test\nS: 250 AUTH PLAIN\nC: QUIT\nS: 221 bye`,
    );
    assertFail(o, "AUTH_UNAVAILABLE", "auth");
    assertNothingSent(o);
    const ok = run(
      opts({ tls: "opportunistic", auth: AUTH, allowPlaintextAuth: true, envelope: undefined }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 AUTH PLAIN
      C: AUTH PLAIN ${encodeBase64("\0me\0secret")}
      S: 235 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.equal(ok.result?.authenticated, "PLAIN");
    assert.equal(ok.result?.tls, null);
  });

  it("N12: opportunistic and STARTTLS offered → upgrades; refused with 454 → continues in clear", () => {
    const up = run(
      opts({ tls: "opportunistic", envelope: undefined }),
      `${TO_STARTTLS}\nS: 220 go\nTLS\nC: EHLO client.test\nS: 250 mx\nC: QUIT\nS: 221 bye`,
    );
    assert.ok(up.result?.tls);
    const clear = run(
      opts({ tls: "opportunistic", envelope: undefined }),
      `${TO_STARTTLS}\nS: 454 no\nC: QUIT\nS: 221 bye`,
    );
    assert.ok(clear.result && !clear.error);
    assert.equal(clear.result.tls, null);
    const auth = run(
      opts({ tls: "opportunistic", auth: AUTH }),
      `${TO_STARTTLS}\nS: 454 no\nC: QUIT\nS: 221 bye`,
    );
    assertFail(auth, "AUTH_UNAVAILABLE", "auth");
    assertNothingSent(auth);
  });
});

describe("threats R3: malformed replies → PROTOCOL_ERROR, never success", () => {
  for (const bad of ["abc", "25", "2500", "600 x", "099 x", "250x", "", " 250 ok"]) {
    it(`greeting ${JSON.stringify(bad)}`, () => {
      const o = run(opts(), `S! ${JSON.stringify(bad + "\r\n")}`);
      assertFail(o, "PROTOCOL_ERROR", "greeting");
      assert.equal(o.client, "");
    });
  }
  it("bare LF in a reply", () => {
    const o = run(opts(), `S! "220 mx.test\\n"`);
    assertFail(o, "PROTOCOL_ERROR", "greeting");
  });
  it("250-a then 550 b to EHLO", () => {
    const o = run(opts(), `${HELLO}\nS: 250-a\nS: 550 b`);
    assertFail(o, "PROTOCOL_ERROR", "ehlo");
    assertNothingSent(o);
  });
  it("malformed reply to the final dot is never success", () => {
    for (const bad of ["250-queued\r\n550 no\r\n", "25\r\n", "250 ok\n"]) {
      const o = run(
        opts({ tls: "none" }),
        `
        ${HELLO}
        S: 250 mx.test
        C: MAIL FROM:<a@x.test>
        S: 250 ok
        C: RCPT TO:<b@y.test>
        S: 250 ok
        C: DATA
        S: 354 go
        BODY
        S! ${JSON.stringify(bad)}
      `,
      );
      assertFail(o, "PROTOCOL_ERROR", "dot");
      assert.equal(o.result?.response, null);
    }
  });
  it("oversized reply line and endless 250- lines", () => {
    const long = run(
      opts({ limits: { maxLineBytes: 100 } }),
      `S! ${JSON.stringify("220 " + "x".repeat(200))}`,
    );
    assertFail(long, "PROTOCOL_ERROR", "greeting");
    const endless = run(opts(), `${HELLO}\nS! ${JSON.stringify("250-x\r\n".repeat(2000))}`);
    assertFail(endless, "PROTOCOL_ERROR", "ehlo");
  });
  it("an unexpected 3xx/2xx where a refusal or a specific code is due", () => {
    assertFail(run(opts(), `S: 250 hello`), "PROTOCOL_ERROR", "greeting");
    assertFail(run(opts(), `S: 354 hello`), "PROTOCOL_ERROR", "greeting");
  });
});

describe("threats R4: 554 greeting, 421 at any step", () => {
  it("554 greeting → QUIT, then REJECTED", () => {
    const o = run(opts(), `S: 554 5.7.1 go away\nC: QUIT\nS: 221 bye`);
    const e = assertFail(o, "REJECTED", "greeting", false);
    assert.equal(e.reply?.code, 554);
  });
  it("554 greeting and the server hangs up without answering QUIT", () => {
    assertFail(run(opts(), `S: 554 no\nC: QUIT\nEOF`), "REJECTED", "greeting");
  });
  it("421 greeting → TEMPORARY_FAILURE, temporary, no QUIT", () => {
    const o = run(opts(), `S: 421 4.3.2 busy`);
    assertFail(o, "TEMPORARY_FAILURE", "greeting", true);
    assert.equal(o.client, "");
  });
  it("4xx greeting other than 421 → temporary, with QUIT", () => {
    assertFail(run(opts(), `S: 450 later\nC: QUIT\nS: 221 bye`), "TEMPORARY_FAILURE", "greeting", true);
  });
  const DEEP = `
    ${HELLO}
    S: 250 mx.test
    C: MAIL FROM:<a@x.test>
    S: 250 ok
    C: RCPT TO:<b@y.test>
    S: 250 ok
    C: DATA
    S: 354 go
    BODY
  `;
  for (
    const [where, script, phase] of [
      ["EHLO", `${HELLO}\nS: 421 bye`, "ehlo"],
      ["MAIL", `${HELLO}\nS: 250 mx.test\nC: MAIL FROM:<a@x.test>\nS: 421 bye`, "mail"],
      [
        "RCPT",
        `${HELLO}\nS: 250 mx.test\nC: MAIL FROM:<a@x.test>\nS: 250 ok\nC: RCPT TO:<b@y.test>\nS: 421 bye`,
        "rcpt",
      ],
      [
        "DATA",
        `${HELLO}\nS: 250 mx.test\nC: MAIL FROM:<a@x.test>\nS: 250 ok\nC: RCPT TO:<b@y.test>\nS: 250 ok\nC: DATA\nS: 421 bye`,
        "data",
      ],
      ["dot", `${DEEP}\nS: 421 bye`, "dot"],
    ] as const
  ) {
    it(`421 at ${where} → TEMPORARY_FAILURE, temporary, no QUIT`, () => {
      const o = run(opts({ tls: "none" }), script);
      assertFail(o, "TEMPORARY_FAILURE", phase, true);
      assert.ok(!o.client.includes("QUIT"));
    });
  }
  it("421 to the post-TLS EHLO and to AUTH", () => {
    assertFail(
      run(opts(), `${TO_STARTTLS}\nS: 220 go\nTLS\nC: EHLO client.test\nS: 421 bye`),
      "TEMPORARY_FAILURE",
      "ehlo",
      true,
    );
    const a = run(
      opts({ auth: AUTH }),
      `${TO_STARTTLS}\nS: 220 go\nTLS\nC: EHLO client.test\nS: 250-mx\nS: 250 AUTH PLAIN\nC: AUTH PLAIN ${
        encodeBase64("\0me\0secret")
      }\nS: 421 bye`,
    );
    assertFail(a, "TEMPORARY_FAILURE", "auth", true);
  });
  it("4xx/5xx to EHLO (no HELO fallback on 4xx)", () => {
    assertFail(
      run(opts({ tls: "none" }), `${HELLO}\nS: 451 later\nC: QUIT\nS: 221 bye`),
      "TEMPORARY_FAILURE",
      "ehlo",
      true,
    );
  });
});

describe("threats R5: connection lost", () => {
  const UNTIL_BODY = `
    ${HELLO}
    S: 250 mx.test
    C: MAIL FROM:<a@x.test>
    S: 250 ok
    C: RCPT TO:<b@y.test>
    S: 250 ok
    C: DATA
    S: 354 go
  `;
  it("reset after 354 (during the body) → failure in phase data", () => {
    const o = run(opts({ tls: "none" }), `${UNTIL_BODY}\nEXPECT send-body\nEOF`);
    assertFail(o, "TEMPORARY_FAILURE", "data", true);
  });
  it("reset after the final dot with no reply → DELIVERY_UNKNOWN", () => {
    const o = run(opts({ tls: "none" }), `${UNTIL_BODY}\nBODY\nEOF`);
    const e = assertFail(o, "DELIVERY_UNKNOWN", "dot");
    assert.match(e.message, /may or may not/);
  });
  it("no answer to the final dot in time → DELIVERY_UNKNOWN", () => {
    assertFail(run(opts({ tls: "none" }), `${UNTIL_BODY}\nBODY\nTIMEOUT`), "DELIVERY_UNKNOWN", "dot");
  });
  it("a reply while the body is being written is held and taken as the dot's reply", () => {
    const o = run(opts({ tls: "none" }), `${UNTIL_BODY}\nEXPECT send-body\nS: 554 5.6.0 too much junk`);
    assert.equal(o.error, undefined);
    const s = o.session;
    const acts = s.bodySent();
    assert.deepEqual(acts.map((a) => a.type), ["send"]); // QUIT
    const end = s.receive(new TextEncoder().encode("221 bye\r\n"));
    assert.equal(end[1].type, "fail");
    assert.equal(end[1].type === "fail" && end[1].error.code, "REJECTED");
    assert.equal(end[1].type === "fail" && end[1].error.phase, "dot");
  });
  it("engine race: the dot's 250 read before bodySent() still ends in done", () => {
    const o = run(opts({ tls: "none" }), `${UNTIL_BODY}\nEXPECT send-body\nS: 250 queued`);
    const acts = o.session.bodySent();
    assert.equal(acts[0].type, "send");
    const end = o.session.closed();
    assert.deepEqual(end.map((a) => a.type), ["close", "done"]);
  });
  it("two replies while the body is being written → PROTOCOL_ERROR", () => {
    const o = run(opts({ tls: "none" }), `${UNTIL_BODY}\nEXPECT send-body\nS: 250 queued\nS: 250 again`);
    assertFail(o, "PROTOCOL_ERROR", "data");
  });
  it("a refusal during the body, then EOF → the refusal is reported", () => {
    const o = run(opts({ tls: "none" }), `${UNTIL_BODY}\nEXPECT send-body\nS: 552 5.3.4 too big\nEOF`);
    assertFail(o, "REJECTED", "data");
  });
  it("closed before the greeting → TEMPORARY_FAILURE in phase greeting; timeout → TIMEOUT", () => {
    assertFail(run(opts(), `EOF`), "TEMPORARY_FAILURE", "greeting", true);
    const t = assertFail(run(opts(), `TIMEOUT`), "TIMEOUT", "greeting", true);
    assert.match(t.hint, /implicit/);
  });
});

describe("threats R6: per-recipient outcomes", () => {
  it("4xx for one recipient, 5xx for the other → no DATA, REJECTED, both listed", () => {
    const o = run(
      opts({ tls: "none", envelope: { from: "a@x.test", recipients: ["t@y.test", "p@y.test"] } }),
      `
      ${HELLO}
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<t@y.test>
      S: 451 4.3.0 try later
      C: RCPT TO:<p@y.test>
      S: 550 5.1.1 unknown
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "REJECTED", "rcpt", false);
    assert.ok(!o.client.includes("DATA"));
    assert.deepEqual(o.result?.accepted, []);
    assert.deepEqual(o.result?.rejected, [
      { address: "t@y.test", code: 451, text: "4.3.0 try later" },
      { address: "p@y.test", code: 550, text: "5.1.1 unknown" },
    ]);
  });
  it("every refusal 4xx → TEMPORARY_FAILURE, temporary", () => {
    const o = run(
      opts({ tls: "none" }),
      `
      ${HELLO}
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 250 ok
      C: RCPT TO:<b@y.test>
      S: 452 4.5.3 too many
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "TEMPORARY_FAILURE", "rcpt", true);
  });
  it("one accepted, one 4xx → sent; RECIPIENTS_REJECTED marked temporary", () => {
    const o = run(
      opts({ tls: "none", envelope: { from: "a@x.test", recipients: ["ok@y.test", "t@y.test"] } }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 PIPELINING
      C: MAIL FROM:<a@x.test>
      C: RCPT TO:<ok@y.test>
      C: RCPT TO:<t@y.test>
      C: DATA
      S: 250 ok
      S: 250 ok
      S: 451 later
      S: 354 go
      BODY
      S: 250 ok
      C: QUIT
      S: 221 bye
    `,
    );
    assert.equal(o.error, undefined);
    assert.equal(o.result?.error?.code, "RECIPIENTS_REJECTED");
    assert.equal(o.result?.error?.temporary, true);
    assert.deepEqual(o.result?.accepted, ["ok@y.test"]);
  });
  it("pipelined: all refused, DATA 554 → no body, REJECTED", () => {
    const o = run(
      opts({ tls: "none" }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 PIPELINING
      C: MAIL FROM:<a@x.test>
      C: RCPT TO:<b@y.test>
      C: DATA
      S: 250 ok
      S: 550 no
      S: 554 no valid recipients
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "REJECTED", "rcpt");
    assert.ok(!o.actions.some((a) => a.type === "send-body"));
  });
  it("pipelined: all refused but DATA 354 → an empty message ends it, no body", () => {
    const o = run(
      opts({ tls: "none" }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 PIPELINING
      C: MAIL FROM:<a@x.test>
      C: RCPT TO:<b@y.test>
      C: DATA
      S: 250 ok
      S: 550 no
      S: 354 go
      C: .
      S: 554 no valid recipients
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "REJECTED", "rcpt");
    assert.ok(!o.actions.some((a) => a.type === "send-body"));
  });
  it("MAIL refused: non-pipelined → REJECTED phase mail, no RCPT", () => {
    const o = run(
      opts({ tls: "none" }),
      `${HELLO}\nS: 250 mx.test\nC: MAIL FROM:<a@x.test>\nS: 550 5.7.1 sender denied\nC: QUIT\nS: 221 bye`,
    );
    assertFail(o, "REJECTED", "mail");
    assert.ok(!o.client.includes("RCPT"));
  });
  it("MAIL refused: pipelined → waits for the RCPT and DATA replies, REJECTED phase mail", () => {
    const o = run(
      opts({ tls: "none" }),
      `
      ${HELLO}
      S: 250-mx.test
      S: 250 PIPELINING
      C: MAIL FROM:<a@x.test>
      C: RCPT TO:<b@y.test>
      C: DATA
      S: 550 sender denied
      S: 503 need MAIL
      S: 503 need RCPT
      C: QUIT
      S: 221 bye
    `,
    );
    assertFail(o, "REJECTED", "mail");
    assert.deepEqual(o.result?.accepted, []);
  });
  it("DATA refused, final dot refused (5xx / 4xx)", () => {
    const pre =
      `${HELLO}\nS: 250 mx.test\nC: MAIL FROM:<a@x.test>\nS: 250 ok\nC: RCPT TO:<b@y.test>\nS: 250 ok\nC: DATA\n`;
    assertFail(run(opts({ tls: "none" }), `${pre}S: 554 no\nC: QUIT\nS: 221 bye`), "REJECTED", "data");
    const d5 = run(opts({ tls: "none" }), `${pre}S: 354 go\nBODY\nS: 554 5.7.1 spam\nC: QUIT\nS: 221 bye`);
    assertFail(d5, "REJECTED", "dot", false);
    assert.equal(d5.result?.response?.code, 554);
    assertFail(
      run(opts({ tls: "none" }), `${pre}S: 354 go\nBODY\nS: 451 later\nC: QUIT\nS: 221 bye`),
      "TEMPORARY_FAILURE",
      "dot",
      true,
    );
  });
});

describe("error messages escape server text", () => {
  it("ESC, NUL, BEL from the server never reach an error message raw", () => {
    const o = run(opts(), `S! "554 \\u001b[31mred\\u0007 \\u0000x\\r\\n"\nC: QUIT\nS: 221 bye`);
    const e = assertFail(o, "REJECTED", "greeting");
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\x00-\x1f]/.test(e.message), e.message);
    assert.match(e.message, /\\x1b\[31mred\\x07 \\x00x/);
    assert.equal(e.reply?.text, "\x1b[31mred\x07 \x00x"); // raw kept for machines
  });
});
