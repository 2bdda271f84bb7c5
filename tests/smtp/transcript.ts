/**
 * Transcript driver for session tests, Go net/smtp style. A script is a list of lines:
 *   S: text        a server line (CRLF appended); consecutive S lines arrive as one chunk
 *   S! "json"      raw server bytes (a JSON string, for bare LF, injections, …)
 *   C: text        the exact client line expected next (CRLF appended)
 *   C! "json"      raw expected client bytes
 *   TLS            expect a `starttls` action, then call tlsEstablished(FACTS)
 *   TLS!           call tlsEstablished(FACTS) without expecting an action (implicit TLS)
 *   BODY           expect a `send-body` action, then call bodySent()
 *   EXPECT type    expect a `starttls` or `send-body` action and do nothing about it
 *   EOF            the server closed the connection: call closed()
 *   TIMEOUT        call timeout()
 * At the end every client byte must have been matched by a C line.
 */
import assert from "node:assert/strict";
import { SmtpSession } from "../../lib/smtp/session.ts";
import type { Action, SessionOptions, SessionResult, TlsFacts, TransactionOutcome } from "../../lib/smtp/types.ts";
import type { SmtpError } from "../../lib/smtp/errors.ts";

export const FACTS: TlsFacts = {
  version: "TLSv1.3",
  cipher: "TLS_AES_256_GCM_SHA384",
  peer: { subject: "CN=mx.test" },
};

export interface Outcome {
  session: SmtpSession;
  actions: Action[];
  /** Every byte the client sent, decoded. */
  client: string;
  /** Transcript form (redacted where the session said so). */
  redacted: string;
  result?: SessionResult;
  error?: SmtpError;
  /** The `transaction` actions, in the order they came (multi-transaction sessions). */
  transactions: TransactionOutcome[];
  /** The client's writes: the number of `send` actions. */
  writes: number;
  /** Per BODY line, the first `send` bodySent() returned (the engine writes it with the terminator), or "". */
  afterBody: string[];
}

/** Runs `script` against a new session. `segment`: deliver server bytes in pieces of this size. */
export function run(options: SessionOptions, script: string, segment = 0): Outcome {
  const session = new SmtpSession(options);
  const actions: Action[] = [];
  const others: Action[] = [];
  const transactions: TransactionOutcome[] = [];
  const afterBody: string[] = [];
  let sent = "";
  let client = "";
  let redacted = "";
  let server: number[] = [];
  const dec = new TextDecoder();
  const enc = new TextEncoder();

  const take = (list: Action[]) => {
    for (const a of list) {
      actions.push(a);
      if (a.type === "transaction") {
        transactions.push(a.outcome);
      } else if (a.type === "send") {
        const t = dec.decode(a.bytes);
        sent += t;
        client += t;
        redacted += a.redacted ?? t;
      } else {
        others.push(a);
      }
    }
  };
  const flush = () => {
    if (server.length === 0) return;
    const bytes = new Uint8Array(server);
    server = [];
    if (segment > 0) {
      for (let i = 0; i < bytes.length; i += segment) take(session.receive(bytes.slice(i, i + segment)));
    } else {
      take(session.receive(bytes));
    }
  };
  const expectOther = (type: Action["type"], line: string) => {
    const a = others.shift();
    assert.equal(
      a?.type,
      type,
      `${line}: expected a ${type} action, got ${a ? a.type : "nothing"} (client so far: ${
        JSON.stringify(client)
      })`,
    );
  };

  for (const raw of script.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("S:")) {
      server.push(...enc.encode(line.slice(2).trimStart() + "\r\n"));
      continue;
    }
    if (line.startsWith("S!")) {
      server.push(...enc.encode(JSON.parse(line.slice(2).trim())));
      continue;
    }
    flush();
    if (line.startsWith("C:") || line.startsWith("C!")) {
      const want = line.startsWith("C:")
        ? line.slice(2).trimStart() + "\r\n"
        : JSON.parse(line.slice(2).trim());
      assert.ok(
        sent.startsWith(want),
        `expected client ${JSON.stringify(want)}, client sent ${JSON.stringify(sent)}`,
      );
      sent = sent.slice(want.length);
    } else if (line === "TLS") {
      expectOther("starttls", line);
      take(session.tlsEstablished(FACTS));
    } else if (line === "TLS!") {
      take(session.tlsEstablished(FACTS));
    } else if (line === "BODY") {
      expectOther("send-body", line);
      const next = session.bodySent();
      const first = next.find((a) => a.type === "send");
      afterBody.push(first?.type === "send" ? dec.decode(first.bytes) : "");
      take(next);
    } else if (line.startsWith("EXPECT ")) {
      expectOther(line.slice(7).trim() as Action["type"], line);
    } else if (line === "EOF") {
      take(session.closed());
    } else if (line === "TIMEOUT") {
      take(session.timeout());
    } else {
      throw new Error(`bad script line: ${line}`);
    }
  }
  flush();
  assert.equal(sent, "", `client sent bytes the script does not expect: ${JSON.stringify(sent)}`);
  const writes = actions.filter((a) => a.type === "send").length;
  const out: Outcome = { session, actions, client, redacted, transactions, writes, afterBody };
  if (others.length > 0) {
    assert.equal(others.length, 2, `unexpected actions at the end: ${others.map((a) => a.type).join(", ")}`);
    assert.equal(others[0].type, "close");
    const end = others[1];
    if (end.type === "done") out.result = end.result;
    else if (end.type === "fail") {
      out.error = end.error;
      out.result = end.result;
    } else assert.fail(`unexpected final action ${end.type}`);
    assert.ok(session.isFinished);
  }
  return out;
}

/** Asserts the session failed with `code` (and optionally phase / temporary). */
export function assertFail(o: Outcome, code: string, phase?: string, temporary?: boolean): SmtpError {
  assert.ok(o.error, `expected failure ${code}, got ${o.result ? "done" : "no outcome"}`);
  assert.equal(o.error.code, code, o.error.message);
  if (phase !== undefined) assert.equal(o.error.phase, phase);
  if (temporary !== undefined) assert.equal(o.error.temporary, temporary);
  return o.error;
}

/** Fail closed: no AUTH, MAIL, RCPT, DATA or message byte left the client. */
export function assertNothingSent(o: Outcome, allow: string[] = []): void {
  for (const verb of ["AUTH", "MAIL", "RCPT", "DATA"].filter((v) => !allow.includes(v))) {
    assert.ok(
      !new RegExp(`(^|\\n)${verb}\\b`, "i").test(o.client),
      `client sent ${verb}: ${JSON.stringify(o.client)}`,
    );
  }
  assert.ok(!o.actions.some((a) => a.type === "send-body"), "client was told to send the body");
}
