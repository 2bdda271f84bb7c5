/**
 * Runs fuzz inputs against the SMTP core and checks the properties; shared by the quick test
 * (session.fuzz.test.ts) and the long runner (run.ts). Also: an independent reference reply
 * parser (the oracle), fixture (de)serialisation, and a greedy shrinker.
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ErrorCode, SmtpError } from "../../lib/smtp/errors.ts";
import { type Reply, type ReplyLimits, ReplyParser } from "../../lib/smtp/reply.ts";
import { SmtpSession } from "../../lib/smtp/session.ts";
import type { Action, SessionOptions, SessionResult, TlsFacts } from "../../lib/smtp/types.ts";
import {
  concat,
  DEFAULT_LIMITS,
  type DriverOptions,
  type Expected,
  fromBase64,
  type ParserCase,
  type SessionCase,
  splitLines,
  toBase64,
} from "./generators.ts";

export const FACTS: TlsFacts = {
  version: "TLSv1.3",
  cipher: "TLS_AES_256_GCM_SHA384",
  peer: { subject: "CN=mx.test" },
};

/** A broken property: its name and what happened. */
export interface Violation {
  property: string;
  detail: string;
}

// ---- reference parser (the oracle) ------------------------------------------------------------------

/** A reply as the reference parser sees it, with its size on the wire. */
export interface RefReply {
  code: number;
  lines: string[];
  text: string;
  enhanced?: string;
  bytes: number;
  /** Offset just past its last CRLF in the stream. */
  end: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * RFC 5321 §4.2 replies of a whole byte stream, written independently of lib/smtp/reply.ts:
 * CRLF only, three digits 200–599, separator space or dash (or nothing after the code), one
 * code per reply, and the same bounds. Returns the replies before the first error, and whether
 * there was one (a trailing incomplete line is not an error unless it is already over a bound).
 */
export function refParse(b: Uint8Array, lim: ReplyLimits): { replies: RefReply[]; error: boolean } {
  const replies: RefReply[] = [];
  let cur: { code: number; lines: string[]; bytes: number } | null = null;
  let pos = 0;
  const isDigit = (x: number) => x >= 48 && x <= 57;
  while (pos < b.length) {
    let j = pos;
    while (j < b.length && b[j] !== 13 && b[j] !== 10) j++;
    const n = j - pos;
    const before = cur ? cur.bytes : 0;
    if (n > lim.maxLineBytes || before + n > lim.maxReplyBytes) return { replies, error: true };
    if (j === b.length) break; // incomplete line
    if (b[j] === 10) return { replies, error: true };
    if (j + 1 === b.length) break; // CR waiting for its LF
    if (b[j + 1] !== 10) return { replies, error: true };
    const line = b.subarray(pos, j);
    pos = j + 2;
    if (n < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2])) return { replies, error: true };
    const code = Number(String.fromCharCode(line[0], line[1], line[2]));
    if (code < 200 || code >= 600) return { replies, error: true };
    const more = n > 3 && line[3] === 45;
    if (n > 3 && line[3] !== 32 && line[3] !== 45) return { replies, error: true };
    if (cur && cur.code !== code) return { replies, error: true };
    cur ??= { code, lines: [], bytes: 0 };
    if (cur.lines.length + 1 > lim.maxReplyLines) return { replies, error: true };
    cur.bytes += n + 2;
    if (cur.bytes > lim.maxReplyBytes) return { replies, error: true };
    cur.lines.push(n > 4 ? utf8.decode(line.subarray(4)) : "");
    if (more) continue;
    const r: RefReply = { code, lines: cur.lines, text: cur.lines.join("\n"), bytes: cur.bytes, end: pos };
    const first = cur.lines[0].split(" ")[0].split(".");
    if (
      first.length === 3 && first[0].length === 1 && Number(first[0]) === Math.floor(code / 100) &&
      [2, 4, 5].includes(Number(first[0])) && first.slice(1).every((p) => /^[0-9]{1,3}$/.test(p))
    ) r.enhanced = cur.lines[0].split(" ")[0];
    replies.push(r);
    cur = null;
  }
  return { replies, error: false };
}

// ---- session driver -----------------------------------------------------------------------------------

export type Event =
  | { ev: "recv"; epoch: number; bytes: Uint8Array }
  | { ev: "send"; epoch: number; bytes: Uint8Array; text: string }
  | { ev: "starttls" }
  | { ev: "send-body"; epoch: number }
  | { ev: "close" }
  | { ev: "done"; result: SessionResult }
  | { ev: "fail"; error: SmtpError; result: SessionResult }
  | { ev: "call"; call: "tls" | "body" | "closed" | "timeout" };

export interface Trace {
  events: Event[];
  /** The first exception out of a session method (none is allowed). */
  thrown?: { call: string; error: unknown };
  /** Bound violations seen after some call. */
  bounds: string[];
  /** Turns delivered, of `turns`. */
  delivered: number;
  turns: number;
  /** Times the client waited while the server had more queued. */
  stalls: number;
  finished: boolean;
  /** The constructor refused the options (CONFIG_INVALID / MESSAGE_INVALID). */
  refused?: SmtpError;
}

interface ParserInternals {
  buffered: number;
  limits: ReplyLimits;
  line?: Uint8Array;
  lines?: string[];
}
interface SessionInternals {
  parser: ParserInternals;
  pending?: unknown[];
}

const dec = new TextDecoder();
const sane = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;

/**
 * Plays the engine: releases one server turn per client flight (a `send`, or `send-body` for the
 * dot's reply), runs the TLS handshake when asked, calls `bodySent()`, and `closed()` at EOF.
 */
export function drive(c: SessionCase): Trace {
  const t: Trace = {
    events: [],
    bounds: [],
    delivered: 0,
    turns: c.turns.length,
    stalls: 0,
    finished: false,
  };
  let session: SmtpSession;
  try {
    session = new SmtpSession(c.options);
  } catch (error) {
    // Bad options must be refused with a typed error before anything happens (R8).
    if (error instanceof SmtpError && (error.code === "CONFIG_INVALID" || error.code === "MESSAGE_INVALID")) {
      t.refused = error;
    } else t.thrown = { call: "constructor", error };
    return t;
  }
  const internals = session as unknown as SessionInternals;
  const lim = { ...DEFAULT_LIMITS, ...c.options.limits };
  const maxPending = (c.options.envelope?.recipients.length ?? 0) + 3;
  let epoch = 0;
  let credits = 1;
  let next = 0;
  let wantTls = false;
  let wantBody = false;
  let terminal = false;

  const bounds = (call: string) => {
    if (session.isFinished) return;
    const p = internals.parser;
    // Bounds are checked where they are meaningful (positive whole numbers; hostile options may set others).
    if (sane(lim.maxReplyBytes) && p.buffered > lim.maxReplyBytes + 1) {
      t.bounds.push(
        `after ${call}: parser holds ${p.buffered} bytes > maxReplyBytes ${lim.maxReplyBytes} + 1`,
      );
    }
    if (sane(lim.maxLineBytes) && p.line && p.line.length > lim.maxLineBytes) {
      t.bounds.push(`after ${call}: line buffer ${p.line.length} > maxLineBytes ${lim.maxLineBytes}`);
    }
    if (sane(lim.maxReplyLines) && p.lines && p.lines.length > lim.maxReplyLines) {
      t.bounds.push(`after ${call}: ${p.lines.length} lines held > maxReplyLines ${lim.maxReplyLines}`);
    }
    if (internals.pending && internals.pending.length > maxPending) {
      t.bounds.push(`after ${call}: ${internals.pending.length} commands pending > ${maxPending}`);
    }
  };
  const apply = (call: string, f: () => Action[]) => {
    let actions: Action[];
    try {
      actions = f();
    } catch (error) {
      t.thrown ??= { call, error };
      terminal = true; // stop driving
      return;
    }
    for (const a of actions) {
      switch (a.type) {
        case "send":
          credits++;
          t.events.push({ ev: "send", epoch, bytes: a.bytes, text: dec.decode(a.bytes) });
          break;
        case "starttls":
          wantTls = true;
          t.events.push({ ev: "starttls" });
          break;
        case "send-body":
          wantBody = true;
          credits++;
          t.events.push({ ev: "send-body", epoch });
          break;
        case "close":
          t.events.push({ ev: "close" });
          break;
        case "done":
          terminal = true;
          t.events.push({ ev: "done", result: a.result });
          break;
        case "fail":
          terminal = true;
          t.events.push({ ev: "fail", error: a.error, result: a.result });
          break;
        default:
          t.events.push({
            ev: "send",
            epoch,
            bytes: new Uint8Array(0),
            text: `<unknown action ${JSON.stringify(a)}>`,
          });
      }
    }
    bounds(call);
  };
  const deliver = () => {
    const turn = c.turns[next++];
    t.delivered = next;
    for (const chunk of turn) {
      if (terminal) return;
      t.events.push({ ev: "recv", epoch, bytes: chunk });
      apply("receive", () => session.receive(chunk));
    }
  };

  if (c.options.strategy === "implicit") {
    if (c.driver.implicitLate && next < c.turns.length) {
      credits--;
      deliver();
    }
    if (!terminal) {
      epoch++;
      t.events.push({ ev: "call", call: "tls" });
      apply("tlsEstablished", () => session.tlsEstablished(FACTS));
    }
  }
  for (let guard = 0; !terminal; guard++) {
    if (guard > 100_000) {
      t.bounds.push("driver loop did not end");
      break;
    }
    if (wantTls) {
      wantTls = false;
      epoch++;
      t.events.push({ ev: "call", call: "tls" });
      apply("tlsEstablished", () => session.tlsEstablished(FACTS));
      continue;
    }
    if (wantBody) {
      wantBody = false;
      if (c.driver.earlyDot && credits > 0 && next < c.turns.length) {
        credits--;
        deliver();
        if (terminal) break;
      }
      t.events.push({ ev: "call", call: "body" });
      apply("bodySent", () => session.bodySent());
      continue;
    }
    if (next < c.turns.length) {
      if (credits > 0) {
        credits--;
        deliver();
        continue;
      }
      t.stalls++;
      if (c.driver.stall === "push") {
        deliver();
        continue;
      }
      t.events.push({ ev: "call", call: "timeout" });
      apply("timeout", () => session.timeout());
      continue;
    }
    t.events.push({ ev: "call", call: "closed" });
    apply("closed", () => session.closed());
    break;
  }
  t.finished = session.isFinished;
  if (!t.thrown && session.isFinished) {
    // Finished means finished: nothing more comes out, whatever happens.
    for (
      const [call, f] of [
        ["receive", () => session.receive(Uint8Array.of(50, 53, 48, 32, 111, 107, 13, 10))],
        ["closed", () => session.closed()],
        ["timeout", () => session.timeout()],
      ] as const
    ) {
      try {
        const more = f();
        if (more.length > 0) {
          t.bounds.push(`${call}() after the end returned ${more.map((a) => a.type).join(",")}`);
        }
      } catch (error) {
        t.thrown ??= { call: `${call} after the end`, error };
      }
    }
  }
  return t;
}

// ---- session properties -------------------------------------------------------------------------------

type Kind =
  | "greeting"
  | "EHLO"
  | "HELO"
  | "STARTTLS"
  | "AUTH"
  | "AUTH-CONT"
  | "MAIL"
  | "RCPT"
  | "DATA"
  | "BODY"
  | "DOT-ABORT"
  | "QUIT"
  | "?";

interface Cmd {
  kind: Kind;
  line: string;
  epoch: number;
  /** Index within its epoch (= index of its reply). */
  index: number;
  /** Index of the send event that carried it (commands of one flight share it). */
  flight: number;
}

const KNOWN_CODES: readonly ErrorCode[] = [
  "USAGE",
  "CONFIG_INVALID",
  "NO_ROUTE",
  "MESSAGE_INVALID",
  "CONNECT_FAILED",
  "TIMEOUT",
  "TLS_MODE_MISMATCH",
  "STARTTLS_UNAVAILABLE",
  "STARTTLS_REFUSED",
  "STARTTLS_INJECTION",
  "TLS_HANDSHAKE_FAILED",
  "TLS_VERSION_TOO_LOW",
  "CERT_UNTRUSTED",
  "CERT_EXPIRED",
  "CERT_HOSTNAME_MISMATCH",
  "CERT_PIN_MISMATCH",
  "AUTH_UNAVAILABLE",
  "AUTH_FAILED",
  "PROTOCOL_ERROR",
  "TEMPORARY_FAILURE",
  "REJECTED",
  "RECIPIENTS_REJECTED",
  "DELIVERY_UNKNOWN",
];
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ufeff]/;

function commands(c: SessionCase, t: Trace): Cmd[][] {
  const byEpoch: Cmd[][] = [[], []];
  const add = (kind: Kind, line: string, epoch: number, flight: number) => {
    while (byEpoch.length <= epoch) byEpoch.push([]);
    byEpoch[epoch].push({ kind, line, epoch, index: byEpoch[epoch].length, flight });
  };
  add("greeting", "", c.options.strategy === "implicit" ? 1 : 0, -1);
  let prev: Kind = "greeting";
  t.events.forEach((e, i) => {
    if (e.ev === "send-body") {
      add("BODY", "<body>", e.epoch, i);
      prev = "BODY";
      return;
    }
    if (e.ev !== "send") return;
    const lines = e.text.split("\r\n");
    lines.pop(); // after the last CRLF
    for (const line of lines) {
      const verb = line.split(" ")[0].toUpperCase();
      let kind: Kind = ["EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"].includes(verb)
        ? verb as Kind
        : line === "."
        ? "DOT-ABORT"
        : "?";
      if (kind === "?" && (prev === "AUTH" || prev === "AUTH-CONT")) kind = "AUTH-CONT";
      add(kind, line, e.epoch, i);
      prev = kind;
    }
  });
  return byEpoch;
}

function capsOf(r: RefReply | undefined): Map<string, string[]> | null {
  if (!r || r.code !== 250) return null;
  const caps = new Map<string, string[]>();
  for (const line of r.lines.slice(1)) {
    const words = line.split(/[ \t]+/).filter((w) => w !== "");
    if (words.length === 0) continue;
    let [kw, ...params] = words;
    if (/^auth=/i.test(kw)) {
      params = [kw.slice(5), ...params];
      kw = "AUTH";
    }
    const key = kw.toUpperCase();
    caps.set(key, [...(caps.get(key) ?? []), ...params.map((p) => p.toUpperCase())]);
  }
  return caps;
}

/** Every session property; empty when all hold. */
export function checkSession(c: SessionCase, t: Trace): Violation[] {
  const v: Violation[] = [];
  const bad = (property: string, detail: string) => v.push({ property, detail });
  const o = c.options;
  const lim = { ...DEFAULT_LIMITS, ...o.limits };

  // 1. Never throws (the session returns `fail` actions instead).
  if (t.thrown) {
    const e = t.thrown.error;
    bad(
      "no-throw",
      `${t.thrown.call}() threw ${e instanceof SmtpError ? `SmtpError ${e.code}` : String(e)}: ${
        e instanceof Error ? e.stack?.split("\n").slice(0, 4).join(" | ") : ""
      }`,
    );
    return v;
  }
  if (t.refused) {
    if (UNPRINTABLE.test(t.refused.message)) {
      bad("error-shape", `unescaped text: ${JSON.stringify(t.refused.message)}`);
    }
    return v;
  }

  // 2. Terminates: after EOF the session is finished, with exactly one close then one done/fail, last.
  const ends = t.events.map((e, i) => [e.ev, i] as const).filter(([ev]) => ev === "done" || ev === "fail");
  const closes = t.events.filter((e) => e.ev === "close").length;
  const outs = t.events.filter((e) => e.ev !== "recv" && e.ev !== "call");
  if (!t.finished || ends.length !== 1) {
    bad("terminates", `finished=${t.finished}, ${ends.length} done/fail actions`);
  } else if (
    closes !== 1 || outs[outs.length - 1].ev !== ends[0][0] || outs[outs.length - 2]?.ev !== "close"
  ) {
    bad("terminates", `actions end with ${outs.slice(-3).map((e) => e.ev).join(",")} (${closes} close)`);
  }
  for (const b of t.bounds) bad("bounds", b);
  const end = t.events.find((e) => e.ev === "done" || e.ev === "fail") as
    | Extract<Event, { ev: "done" | "fail" }>
    | undefined;
  if (!end) return v;

  // 3. Client bytes: CRLF-terminated lines, no CR/LF/NUL inside, only known commands.
  const cmds = commands(c, t);
  for (const e of t.events) {
    if (e.ev !== "send") continue;
    if (e.bytes.length < 2 || !e.text.endsWith("\r\n")) {
      bad("client-bytes", `send not ending in CRLF: ${JSON.stringify(e.text)}`);
    }
    for (const line of e.text.split("\r\n").slice(0, -1)) {
      if (/[\r\n\0]/.test(line)) bad("client-bytes", `CR/LF/NUL inside a command: ${JSON.stringify(line)}`);
    }
  }
  for (const cmd of cmds.flat()) {
    if (cmd.kind === "?") bad("client-bytes", `unknown command ${JSON.stringify(cmd.line)}`);
  }

  // Replies, aligned to commands position by position within each TLS epoch (SMTP is in order).
  const recv: { bytes: Uint8Array; event: number }[][] = cmds.map(() => []);
  t.events.forEach((e, i) => {
    if (e.ev === "recv") (recv[e.epoch] ??= []).push({ bytes: e.bytes, event: i });
  });
  const replies = recv.map((parts) => refParse(concat(parts.map((p) => p.bytes)), lim).replies);
  const replyTo = (
    cmd: Cmd | undefined,
  ): RefReply | undefined => (cmd ? replies[cmd.epoch]?.[cmd.index] : undefined);
  /** Index of the event that completed the reply to `cmd` (-1 when none). */
  const arrival = (cmd: Cmd): number => {
    const r = replyTo(cmd);
    if (!r) return -1;
    let off = 0;
    for (const p of recv[cmd.epoch]) {
      off += p.bytes.length;
      if (off >= r.end) return p.event;
    }
    return -1;
  };
  /** Causality: a reply acted upon must have arrived after its command left (else it was injected early). */
  const causal = (cmd: Cmd | undefined, what: string) => {
    if (cmd && cmd.kind !== "greeting" && arrival(cmd) >= 0 && arrival(cmd) < cmd.flight) {
      bad("causality", `acted on a reply to ${cmd.kind} that arrived before ${cmd.kind} was sent (${what})`);
    }
  };
  const all = cmds.flat();
  const lastBefore = (cmd: Cmd, kinds: Kind[]) => {
    const list = cmds[cmd.epoch].slice(0, cmd.index).filter((x) => kinds.includes(x.kind));
    return list[list.length - 1];
  };
  const helloCaps = (cmd: Cmd) => {
    const h = lastBefore(cmd, ["EHLO", "HELO"]);
    return h?.kind === "EHLO" ? capsOf(replyTo(h)) : null;
  };

  // 4. TLS policy: under tls=required nothing but EHLO/STARTTLS/QUIT (and no body) before the handshake;
  //    AUTH in clear only when allowed; STARTTLS alone, and nothing sent until the handshake is done.
  const clear = cmds[0] ?? [];
  if (o.tls === "required") {
    for (const cmd of clear) {
      if (!["greeting", "EHLO", "STARTTLS", "QUIT"].includes(cmd.kind)) {
        bad("tls-required", `${JSON.stringify(cmd.line)} sent before TLS`);
      }
    }
    if (end.ev === "done" && !end.result.tls) bad("tls-required", "success without TLS");
  }
  for (const cmd of clear) {
    if ((cmd.kind === "AUTH" || cmd.kind === "AUTH-CONT") && !o.allowPlaintextAuth) {
      bad("auth-in-clear", `${JSON.stringify(cmd.line.slice(0, 20))} sent in clear`);
    }
  }
  t.events.forEach((e, i) => {
    if (e.ev === "send" && /(^|\n)STARTTLS\r\n/i.test(e.text) && e.text !== "STARTTLS\r\n") {
      bad("starttls-alone", `STARTTLS pipelined: ${JSON.stringify(e.text)}`);
    }
    if (e.ev !== "starttls") return;
    const after = t.events.slice(i + 1);
    const tlsAt = after.findIndex((x) => x.ev === "call" && x.call === "tls");
    const sends = (tlsAt < 0 ? after : after.slice(0, tlsAt)).filter((x) =>
      x.ev === "send" || x.ev === "send-body"
    );
    if (sends.length > 0) bad("starttls-alone", "the client sent more before the TLS handshake");
  });

  // 5. Acting only on what the server really said (positional oracle): the TLS upgrade follows a 220
  //    to STARTTLS, the body follows 354 to DATA after an accepted MAIL and RCPT, and capabilities
  //    used come from the last EHLO of the same TLS epoch (RFC 3207 §4.2).
  const starttlsCmd = all.filter((x) => x.kind === "STARTTLS").pop();
  if (t.events.some((e) => e.ev === "starttls")) {
    if (replyTo(starttlsCmd)?.code !== 220) {
      bad(
        "starttls-oracle",
        `TLS upgrade although the reply to STARTTLS was ${replyTo(starttlsCmd)?.code ?? "none"}`,
      );
    }
    causal(starttlsCmd, "TLS upgrade");
  }
  const mails = all.filter((x) => x.kind === "MAIL");
  const rcpts = all.filter((x) => x.kind === "RCPT");
  const okRcpts = rcpts.filter((x) => {
    const code = replyTo(x)?.code ?? 0;
    return code >= 200 && code < 300;
  });
  if (t.events.some((e) => e.ev === "send-body")) {
    const data = all.filter((x) => x.kind === "DATA").pop();
    const mailCode = replyTo(mails[0])?.code ?? 0;
    for (const x of [mails[0], ...rcpts, data]) causal(x, "body sent");
    if (replyTo(data)?.code !== 354 || mailCode < 200 || mailCode >= 300 || okRcpts.length === 0) {
      bad(
        "body-oracle",
        `body sent with MAIL ${mailCode || "none"}, ${okRcpts.length} RCPT accepted, DATA ${
          replyTo(data)?.code ?? "none"
        }`,
      );
    }
  }
  for (const cmd of all) {
    const caps = cmd.kind === "AUTH" || cmd.kind === "STARTTLS" || cmd.kind === "MAIL"
      ? helloCaps(cmd)
      : undefined;
    if (cmd.kind === "AUTH") {
      const mech = cmd.line.split(" ")[1]?.toUpperCase();
      if (!caps?.get("AUTH")?.includes(mech)) {
        bad("post-tls-caps", `AUTH ${mech} not offered by the last EHLO of its epoch`);
      }
    }
    if (cmd.kind === "STARTTLS" && !caps?.has("STARTTLS")) {
      bad("post-tls-caps", "STARTTLS not offered by the last EHLO");
    }
    if (cmd.kind === "MAIL") {
      const params = cmd.line.toUpperCase().split(" ").slice(2);
      for (
        const [param, cap] of [["SIZE=", "SIZE"], ["BODY=8BITMIME", "8BITMIME"], ["SMTPUTF8", "SMTPUTF8"]]
      ) {
        if (params.some((p) => p.startsWith(param)) && !caps?.has(cap)) {
          bad("post-tls-caps", `MAIL uses ${param} but the last EHLO did not offer ${cap}`);
        }
      }
      const flight = cmds[cmd.epoch].filter((x) => x.flight === cmd.flight);
      if (flight.length > 1 && !caps?.has("PIPELINING")) bad("post-tls-caps", "pipelined without PIPELINING");
    }
  }

  // 6. Success only when the server accepted: greeting 220, hello 250, STARTTLS 220 when TLS came
  //    from it, AUTH ended in 235, MAIL 2xx, ≥ 1 RCPT 2xx (and exactly those reported accepted),
  //    DATA 354, and the reply in the dot's position 2xx.
  if (end.ev === "done") {
    const r = end.result;
    const need = (ok: boolean, what: string) => ok || bad("success-oracle", what);
    const code = (cmd: Cmd | undefined) => replyTo(cmd)?.code ?? 0;
    for (const x of all) if (x.kind !== "QUIT" && x.kind !== "?") causal(x, "success");
    const greeting = all.find((x) => x.kind === "greeting");
    need(code(greeting) === 220, `success but the greeting was ${code(greeting) || "none"}`);
    const lastEpoch = Math.max(...all.map((x) => x.epoch));
    const hello = cmds[lastEpoch].filter((x) => x.kind === "EHLO" || x.kind === "HELO").pop();
    need(code(hello) === 250, `success but the last EHLO/HELO got ${code(hello) || "none"}`);
    if (r.tls && o.strategy === "starttls") need(code(starttlsCmd) === 220, "TLS without a 220 to STARTTLS");
    const auths = all.filter((x) => x.kind === "AUTH" || x.kind === "AUTH-CONT");
    if (o.auth) {
      need(
        code(auths[auths.length - 1]) === 235,
        `success but AUTH ended with ${code(auths[auths.length - 1]) || "none"}`,
      );
      need(r.authenticated !== null, "success with auth configured but not authenticated");
    } else need(auths.length === 0, "AUTH sent without credentials");
    if (o.envelope) {
      need(mails.length === 1, `${mails.length} MAIL commands`);
      const mailCode = code(mails[0]);
      need(mailCode >= 200 && mailCode < 300, `success but MAIL got ${mailCode || "none"}`);
      const data = all.filter((x) => x.kind === "DATA");
      need(data.length === 1 && code(data[0]) === 354, `success but DATA got ${code(data[0]) || "none"}`);
      const body = all.filter((x) => x.kind === "BODY");
      const dot = replyTo(body[0]);
      need(
        body.length === 1 && !!dot && dot.code >= 200 && dot.code < 300,
        `success but the reply in the dot's position is ${dot ? dot.code : "missing"}`,
      );
      need(
        r.response?.code === dot?.code,
        `result.response ${r.response?.code} but the dot got ${dot?.code}`,
      );
      const want = okRcpts.map((x) => /<(.*)>/.exec(x.line)?.[1] ?? "?");
      need(
        JSON.stringify(r.accepted) === JSON.stringify(want) && want.length > 0,
        `accepted ${JSON.stringify(r.accepted)} but the RCPT replies accepted ${JSON.stringify(want)}`,
      );
    } else need(mails.length === 0, "probe sent MAIL");
  }

  // 7. Bounded AUTH exchange.
  const conts = all.filter((x) => x.kind === "AUTH-CONT").length;
  const maxRounds = o.limits?.maxAuthRounds ?? 10;
  if (sane(maxRounds) && conts > maxRounds) {
    bad("bounds", `${conts} AUTH continuation lines > maxAuthRounds ${maxRounds}`);
  }

  // 8. Error and result shape: a typed SmtpError with a contract code and printable text; sane result.
  const errs = [end.ev === "fail" ? end.error : undefined, end.result.error].filter((e) => e !== undefined);
  for (const e of errs) {
    if (!(e instanceof SmtpError)) {
      bad("error-shape", `not an SmtpError: ${String(e)}`);
      continue;
    }
    if (!KNOWN_CODES.includes(e.code)) bad("error-shape", `unknown code ${e.code}`);
    const rc = e.reply?.code ?? 0;
    if (e.code === "TEMPORARY_FAILURE" && (!e.temporary || (rc && (rc < 400 || rc >= 500)))) {
      bad("error-shape", `TEMPORARY_FAILURE with temporary=${e.temporary}, reply ${rc}`);
    }
    // REJECTED may carry a 4xx reply: every recipient refused, some only temporarily.
    if (e.code === "REJECTED" && (e.temporary || (rc && rc < 400))) {
      bad("error-shape", `REJECTED with temporary=${e.temporary}, reply ${rc}`);
    }
    if (UNPRINTABLE.test(e.message) || UNPRINTABLE.test(e.hint)) {
      bad("error-shape", `unescaped server text in ${JSON.stringify(e.message + " / " + e.hint)}`);
    }
  }
  if (end.ev === "done" && end.result.error && end.result.error.code !== "RECIPIENTS_REJECTED") {
    bad("error-shape", `done with error ${end.result.error.code}`);
  }
  const r = end.result;
  const rcptsWanted = o.envelope?.recipients ?? [];
  const seen = new Map<string, number>();
  for (const a of [...r.accepted, ...r.rejected.map((x) => x.address)]) {
    seen.set(a, (seen.get(a) ?? 0) + 1);
    if (seen.get(a)! > rcptsWanted.filter((w) => w === a).length) {
      bad("result", `recipient ${a} reported too often or unknown`);
    }
  }
  if (end.ev === "done" && o.envelope && (r.accepted.length === 0 || !r.response || r.response.code >= 300)) {
    bad("result", `success with ${r.accepted.length} accepted and response ${r.response?.code}`);
  }

  // 9. Unmutated conversations: exactly the outcome of the model, every turn used, no stall.
  if (c.expect) {
    const x: Expected = c.expect;
    const got = end.ev === "done" ? "done" : `fail ${end.error.code} (${end.error.message})`;
    if (x.ok !== (end.ev === "done") || (!x.ok && end.ev === "fail" && x.code !== end.error.code)) {
      bad("expected-outcome", `model says ${x.ok ? "done" : `fail ${x.code}`} (${x.why}), session: ${got}`);
    } else if (x.ok && JSON.stringify(x.accepted) !== JSON.stringify(end.result.accepted)) {
      bad(
        "expected-outcome",
        `accepted ${JSON.stringify(end.result.accepted)}, model ${JSON.stringify(x.accepted)}`,
      );
    }
    if (t.stalls > 0 || t.delivered !== t.turns) {
      bad(
        "expected-outcome",
        `${t.delivered}/${t.turns} turns delivered, ${t.stalls} stalls (${x.why}; session: ${got})`,
      );
    }
  }
  return v;
}

/** Drives one session input and checks it. */
export function runSessionCase(c: SessionCase): Violation[] {
  return checkSession(c, drive(c));
}

// ---- parser properties ------------------------------------------------------------------------------

function sameReply(a: Reply, b: RefReply): boolean {
  return a.code === b.code && a.text === b.text && a.enhanced === b.enhanced &&
    a.lines.length === b.lines.length && a.lines.every((l, i) => l === b.lines[i]);
}

function showReplies(rs: readonly (Reply | RefReply)[]): string {
  return JSON.stringify(rs.map((r) => `${r.code}${r.enhanced ? `/${r.enhanced}` : ""}:${r.lines.join("|")}`))
    .slice(0, 400);
}

/**
 * ReplyParser fed the chunks: throws only a PROTOCOL_ERROR SmtpError (sticky), returns the same
 * replies as the reference parser (any segmentation), never buffers over the bounds, and
 * `buffered` counts exactly the bytes not yet returned.
 */
export function runParserCase(c: ParserCase): Violation[] {
  const v: Violation[] = [];
  const bad = (property: string, detail: string) => v.push({ property, detail });
  const ref = refParse(concat(c.chunks), c.limits);
  const p = new ReplyParser(c.limits);
  const internals = p as unknown as ParserInternals;
  const got: Reply[] = [];
  let error: unknown = null;
  let pushed = 0;
  let consumed = 0;
  outer: for (const chunk of c.chunks) {
    p.push(chunk);
    pushed += chunk.length;
    let r: Reply | null = null;
    do {
      try {
        r = p.next("mail");
      } catch (e) {
        error = e;
        break outer;
      }
      if (!r) continue;
      got.push(r);
      const size = ref.replies[got.length - 1]?.bytes ?? 0;
      consumed += size;
      if (r.code < 200 || r.code > 599 || !Number.isInteger(r.code)) bad("parser-shape", `code ${r.code}`);
      if (r.lines.length < 1 || r.lines.length > c.limits.maxReplyLines) {
        bad("parser-shape", `${r.lines.length} lines`);
      }
      if (r.text !== r.lines.join("\n")) bad("parser-shape", "text is not the lines joined");
      if (r.enhanced && Number(r.enhanced[0]) !== Math.floor(r.code / 100)) {
        bad("parser-shape", `enhanced ${r.enhanced} on ${r.code}`);
      }
    } while (r);
    if (p.buffered > c.limits.maxReplyBytes + 1) {
      bad("bounds", `buffered ${p.buffered} > ${c.limits.maxReplyBytes} + 1`);
    }
    if (p.buffered !== pushed - consumed) {
      bad("bounds", `buffered ${p.buffered} but ${pushed - consumed} bytes unreturned`);
    }
    if (internals.line && internals.line.length > c.limits.maxLineBytes) {
      bad("bounds", `line buffer ${internals.line.length} > ${c.limits.maxLineBytes}`);
    }
  }
  if (error !== null) {
    if (!(error instanceof SmtpError) || error.code !== "PROTOCOL_ERROR" || error.phase !== "mail") {
      bad(
        "no-throw",
        `next() threw ${error instanceof SmtpError ? `${error.code}/${error.phase}` : String(error)}`,
      );
    } else {
      for (const phase of ["mail", "data"] as const) {
        try {
          p.next(phase);
          bad("sticky-failure", "next() returned after a failure");
        } catch (e) {
          if (!(e instanceof SmtpError) || e.code !== "PROTOCOL_ERROR" || e.phase !== phase) {
            bad("sticky-failure", `second failure was ${String(e)}`);
          }
        }
      }
      if (UNPRINTABLE.test(error.message)) {
        bad("error-shape", `unescaped text: ${JSON.stringify(error.message)}`);
      }
    }
  }
  // Differential: same replies and the same verdict as the reference, whatever the segmentation.
  if (
    (error !== null) !== ref.error || got.length !== ref.replies.length ||
    !got.every((r, i) => sameReply(r, ref.replies[i]))
  ) {
    bad(
      "differential",
      `parser: ${showReplies(got)}${error ? " + error" : ""}; reference: ${showReplies(ref.replies)}${
        ref.error ? " + error" : ""
      }${error instanceof Error ? ` (${error.message.slice(0, 120)})` : ""}`,
    );
  }
  // reset() starts clean.
  p.reset();
  if (c.limits.maxLineBytes < 6 || c.limits.maxReplyBytes < 8) return v;
  try {
    const rs = p.feed(Uint8Array.of(50, 53, 48, 32, 111, 107, 13, 10), "mail");
    if (rs.length !== 1 || rs[0].code !== 250 || p.buffered !== 0) {
      bad("reset", "reset() did not start clean");
    }
  } catch (e) {
    bad("reset", `after reset(): ${String(e)}`);
  }
  return v;
}

// ---- fixtures -----------------------------------------------------------------------------------------

export interface SessionFixture {
  kind: "session";
  property: string;
  detail: string;
  /** Set when the fixture documents an open lib/smtp bug: replayed as a todo until fixed. */
  known?: string;
  /** With `known`: a regex over violation details; the long run counts matches as known, not new. */
  knownMatch?: string;
  seed: number;
  mutations: string[];
  options: SessionOptions;
  driver: DriverOptions;
  /** Server turns, each a list of base64 chunks. */
  turns: string[][];
  expect?: Expected;
}

export interface ParserFixture {
  kind: "parser";
  property: string;
  detail: string;
  known?: string;
  knownMatch?: string;
  seed: number;
  mutations: string[];
  limits: ReplyLimits;
  /** base64 chunks. */
  chunks: string[];
}

export type Fixture = SessionFixture | ParserFixture;

export function toFixture(c: SessionCase | ParserCase, first: Violation): Fixture {
  const base = {
    property: first.property,
    detail: first.detail.slice(0, 500),
    seed: c.seed,
    mutations: c.mutations,
  };
  if ("chunks" in c) return { kind: "parser", ...base, limits: c.limits, chunks: c.chunks.map(toBase64) };
  const f: SessionFixture = {
    kind: "session",
    ...base,
    options: c.options,
    driver: c.driver,
    turns: c.turns.map((t) => t.map(toBase64)),
  };
  if (c.expect) f.expect = c.expect;
  return f;
}

/** Every fixture in `dir` (none when it does not exist), with its file name. */
export function loadFixtures(dir: string): { file: string; fixture: Fixture }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((file) => ({
    file,
    fixture: JSON.parse(readFileSync(join(dir, file), "utf8")) as Fixture,
  }));
}

/** A predicate for violations of open lib/smtp bugs documented by fixtures (`known` + `knownMatch`). */
export function knownIssues(fixtures: readonly { fixture: Fixture }[]): (v: Violation) => boolean {
  const known = fixtures.map((x) => x.fixture).filter((f) => f.known && f.knownMatch)
    .map((f) => ({ property: f.property, match: new RegExp(f.knownMatch!) }));
  return (v) => known.some((k) => k.property === v.property && k.match.test(v.detail));
}

/** `<hash>.json`: the first 12 hex digits of the SHA-256 of the fixture without its `detail`. */
export function fixtureName(f: Fixture): string {
  return createHash("sha256").update(JSON.stringify({ ...f, detail: "" })).digest("hex").slice(0, 12) +
    ".json";
}

export function fromFixture(f: Fixture): SessionCase | ParserCase {
  if (f.kind === "parser") {
    return { seed: f.seed, limits: f.limits, chunks: f.chunks.map(fromBase64), mutations: f.mutations };
  }
  const c: SessionCase = {
    seed: f.seed,
    options: f.options,
    driver: f.driver,
    turns: f.turns.map((t) => t.map(fromBase64)),
    mutations: f.mutations,
  };
  if (f.expect) c.expect = f.expect;
  return c;
}

export function runCase(c: SessionCase | ParserCase): Violation[] {
  return "chunks" in c ? runParserCase(c) : runSessionCase(c);
}

// ---- shrinking ----------------------------------------------------------------------------------------

/**
 * Greedy shrinking that keeps a violation `same` accepts (e.g. the same property): fewer turns, merged chunks, fewer lines and
 * bytes, simpler options. Unmutated cases (checked against the model) only merge chunks.
 */
export function shrink<C extends SessionCase | ParserCase>(
  c: C,
  same: (v: Violation) => boolean,
  budget = 4000,
): C {
  let best = c;
  let tries = 0;
  const fails = (x: C) => {
    tries++;
    return runCase(x).some(same);
  };
  const attempt = (x: C) => {
    if (tries >= budget) return false;
    if (fails(x)) {
      best = x;
      return true;
    }
    return false;
  };
  const getTurns = (x: C): Uint8Array[][] => ("chunks" in x ? [x.chunks] : x.turns);
  const setTurns = (x: C, turns: Uint8Array[][]): C =>
    ("chunks" in x ? { ...x, chunks: turns[0] ?? [] } : { ...x, turns }) as C;
  const modelBound = !("chunks" in c) && (c as SessionCase).expect !== undefined;

  for (let round = 0, progress = true; progress && tries < budget; round++) {
    progress = false;
    // Merge the chunks of a turn; then pairs of neighbours.
    for (let i = 0; i < getTurns(best).length; i++) {
      const ts = getTurns(best);
      if (ts[i].length > 1 && attempt(setTurns(best, ts.map((t, k) => (k === i ? [concat(t)] : t))))) {
        progress = true;
      }
    }
    if (modelBound) continue;
    // Drop turns (from the end first).
    for (let i = getTurns(best).length - 1; i >= 0 && !("chunks" in best); i--) {
      const ts = getTurns(best);
      if (i < ts.length && attempt(setTurns(best, ts.filter((_, k) => k !== i)))) progress = true;
    }
    // Drop chunks, lines, then byte ranges inside chunks.
    for (let i = 0; i < getTurns(best).length; i++) {
      for (let j = getTurns(best)[i]?.length - 1; j >= 0; j--) {
        const ts = getTurns(best);
        if (!ts[i] || j >= ts[i].length) continue;
        if (attempt(setTurns(best, ts.map((t, k) => (k === i ? t.filter((_, q) => q !== j) : t))))) {
          progress = true;
          continue;
        }
        const lines = splitLines(ts[i][j]);
        for (let l = lines.length - 1; l >= 0 && lines.length > 1; l--) {
          const cur = getTurns(best);
          if (!cur[i] || j >= cur[i].length) break;
          const ls = splitLines(cur[i][j]);
          if (l >= ls.length) continue;
          const chunk = concat(ls.filter((_, q) => q !== l));
          if (
            attempt(
              setTurns(best, cur.map((t, k) => (k === i ? t.map((ch, q) => (q === j ? chunk : ch)) : t))),
            )
          ) {
            progress = true;
          }
        }
        for (
          let size = Math.max(1, Math.floor((getTurns(best)[i]?.[j]?.length ?? 0) / 2));
          size >= 1;
          size = Math.floor(size / 2)
        ) {
          for (let at = 0;;) {
            const cur = getTurns(best);
            const ch = cur[i]?.[j];
            if (!ch || at >= ch.length || ch.length <= 1) break;
            const smaller = concat([ch.subarray(0, at), ch.subarray(at + size)]);
            if (
              attempt(
                setTurns(best, cur.map((t, k) => (k === i ? t.map((x, q) => (q === j ? smaller : x)) : t))),
              )
            ) {
              progress = true;
            } else at += size;
          }
        }
      }
    }
    // Simpler options and driver.
    if (!("chunks" in best)) {
      const s = best as SessionCase;
      const simpler: SessionCase[] = [];
      const o = s.options;
      if (o.auth) simpler.push({ ...s, options: { ...o, auth: undefined } });
      if (o.envelope && o.envelope.recipients.length > 1) {
        simpler.push({
          ...s,
          options: { ...o, envelope: { ...o.envelope, recipients: o.envelope.recipients.slice(0, 1) } },
        });
      }
      for (const k of ["messageSize", "needs8bit", "needsSmtpUtf8", "allowPlaintextAuth"] as const) {
        if (o[k] !== undefined) simpler.push({ ...s, options: { ...o, [k]: undefined } });
      }
      if (s.driver.earlyDot) simpler.push({ ...s, driver: { ...s.driver, earlyDot: false } });
      for (const x of simpler) {
        const clean = JSON.parse(JSON.stringify({ options: x.options })).options as SessionOptions;
        if (attempt({ ...x, options: clean } as C)) progress = true;
      }
    }
  }
  return best;
}
