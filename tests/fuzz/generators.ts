/**
 * Fuzz inputs for the sans-IO SMTP core, all derived from one seed (no dependency):
 * - `Rng`: a seeded PRNG (sfc32, seeded through splitmix32);
 * - `genOptions` + `conversation`: a valid ESMTP server side for a session configuration, as
 *   "turns" (the bytes the server sends after each client flight), with the outcome a correct
 *   client must reach (`Expected`) — a small independent model of the client's decisions;
 * - `mutate`: byte flips, truncations, inserted CR/LF/NUL/0x80+, duplicated/dropped lines, wrong
 *   codes, oversized lines and replies, endless replies, injected replies, merged/split turns;
 * - `segment`: cuts each turn into chunks of 1..N bytes;
 * - `genSessionCase` / `genParserCase`: one complete input for a seed.
 * @module
 */
import type { AuthMechanismName } from "../../lib/smtp/auth/types.ts";
import type { ErrorCode } from "../../lib/smtp/errors.ts";
import type { ReplyLimits } from "../../lib/smtp/reply.ts";
import type { SessionOptions } from "../../lib/smtp/types.ts";

// ---- PRNG ---------------------------------------------------------------------------------------

/** sfc32, seeded through splitmix32: fast, 32-bit, deterministic on every runtime. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)];
  }

  /** Picks by weight: `[[value, weight], …]`. */
  weighted<T>(pairs: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let x = this.float() * total;
    for (const [v, w] of pairs) {
      x -= w;
      if (x < 0) return v;
    }
    return pairs[pairs.length - 1][0];
  }

  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

/** Mixes a run seed and an index into an input seed. */
export function mixSeed(run: number, i: number): number {
  let z = (run ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d) >>> 0;
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

// ---- bytes --------------------------------------------------------------------------------------

const enc = new TextEncoder();
export const CRLF = enc.encode("\r\n");

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits after each CRLF; the last piece may lack one (or be absent when the input ends in CRLF). */
export function splitLines(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + 1 < b.length; i++) {
    if (b[i] === 0x0d && b[i + 1] === 0x0a) {
      out.push(b.subarray(start, i + 2));
      start = i + 2;
      i++;
    }
  }
  if (start < b.length) out.push(b.subarray(start));
  return out;
}

/** Standard padded base64 of bytes (for fixtures and SASL challenges). */
export function toBase64(b: Uint8Array): string {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let out = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += A[n >> 18] + A[(n >> 12) & 63] + A[(n >> 6) & 63] + A[n & 63];
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8);
    out += A[n >> 18] + A[(n >> 12) & 63] + (i + 1 < b.length ? A[(n >> 6) & 63] + "=" : "==");
  }
  return out;
}

export function fromBase64(s: string): Uint8Array {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const clean = s.replace(/=+$/, "");
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of clean) {
    const v = A.indexOf(ch);
    if (v < 0) throw new Error(`bad base64 in fixture: ${JSON.stringify(s.slice(0, 40))}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 255);
    }
  }
  return new Uint8Array(out);
}

// ---- inputs -------------------------------------------------------------------------------------

/** How the harness plays the engine's part around the byte stream. */
export interface DriverOptions {
  /** Deliver the reply to the final dot before calling `bodySent()` (the engine may read it while writing). */
  earlyDot: boolean;
  /** When the client waits but the server has more turns queued: push them anyway, or time out. */
  stall: "push" | "timeout";
  /** Implicit TLS only: deliver the first turn before the handshake (plaintext on an implicit port). */
  implicitLate?: boolean;
}

/** The outcome a correct client reaches on an unmutated conversation. */
export interface Expected {
  ok: boolean;
  /** Error code on failure. */
  code?: ErrorCode;
  /** Recipients the server accepted (on success). */
  accepted: string[];
  /** Why, in words (debugging aid). */
  why: string;
}

/** One session input: options, the server's turns cut into chunks, and how to drive them. */
export interface SessionCase {
  seed: number;
  options: SessionOptions;
  driver: DriverOptions;
  /** Server bytes: one entry per turn (released after each client flight), each cut into chunks. */
  turns: Uint8Array[][];
  /** Names of the mutations applied; empty for a valid conversation. */
  mutations: string[];
  /** Present only for unmutated conversations. */
  expect?: Expected;
}

/** One reply-parser input. */
export interface ParserCase {
  seed: number;
  limits: ReplyLimits;
  chunks: Uint8Array[];
  mutations: string[];
}

// ---- session options ------------------------------------------------------------------------------

export const DEFAULT_LIMITS: ReplyLimits = { maxLineBytes: 8192, maxReplyBytes: 65536, maxReplyLines: 1000 };

/** Limits that still fit every reply the conversation model writes (lines ≤ 78 bytes, ≤ 17 lines). */
function genLimits(rng: Rng): ReplyLimits {
  if (rng.chance(0.25)) return { ...DEFAULT_LIMITS };
  return {
    maxLineBytes: rng.int(80, 600),
    maxReplyBytes: rng.int(1400, 6000),
    maxReplyLines: rng.int(18, 120),
  };
}

const MECHS: readonly AuthMechanismName[] = ["auto", "plain", "login", "cram-md5", "xoauth2"];

/** A valid `SessionOptions` (the constructor must accept it). */
export function genOptions(rng: Rng): SessionOptions {
  const strategy = rng.weighted([["starttls", 6], ["implicit", 2], ["plain", 2]] as const);
  const tls = strategy === "plain"
    ? rng.pick(["opportunistic", "none"] as const)
    : rng.weighted([["required", 6], ["opportunistic", 3], ["none", 1]] as const);
  const limits = genLimits(rng);
  const o: SessionOptions = { strategy, tls, helo: "client.test", limits };
  if (rng.chance(0.3)) o.limits = { ...limits, maxAuthRounds: rng.int(1, 4) };
  if (rng.chance(0.5)) {
    o.auth = { mechanism: rng.pick(MECHS), user: rng.pick(["me", "user@x.test"]), password: "s3cret" };
  }
  if (rng.chance(0.2)) o.allowPlaintextAuth = true;
  if (rng.chance(0.88)) {
    const n = rng.weighted([[1, 5], [2, 3], [3, 2]] as const);
    const recipients = Array.from({ length: n }, (_, i) => `r${i + 1}@y.test`);
    if (rng.chance(0.05)) recipients[0] = "\u00fc@y.test";
    o.envelope = { from: rng.chance(0.1) ? "" : "a@x.test", recipients };
  }
  if (rng.chance(0.5)) o.messageSize = rng.int(100, 200000);
  if (rng.chance(0.15)) o.needs8bit = true;
  if (rng.chance(0.05)) o.needsSmtpUtf8 = true;
  return o;
}

// ---- the valid conversation ------------------------------------------------------------------------

const TEXTS = [
  "Ok",
  "mx.test ESMTP ready",
  "Requested mail action okay, completed",
  "queued as 4Xq9Lm0z",
  "Go ahead",
  "End data with <CR><LF>.<CR><LF>",
  "Service closing transmission channel",
  "Mailbox unavailable",
  "Try again later",
  "\u00fcber gr\u00f6\u00dfe \u4e2d\u6587",
  "tab\there",
  "esc \x1b[31mred\x1b[0m \x07",
  "bidi \u202egnp.exe",
  "nul\x00byte",
  "",
];

const ENH: Record<number, string> = { 2: "2.0.0", 4: "4.3.0", 5: "5.7.1" };

class Conversation {
  readonly turns: string[] = [];
  private readonly enhanced: boolean;

  constructor(private readonly rng: Rng, readonly opts: SessionOptions) {
    this.enhanced = rng.chance(0.6);
  }

  /** A reply: code, 1..4 lines (or the given lines), optional enhanced code on each line. */
  reply(code: number, lines?: string[]): string {
    const r = this.rng;
    const ls = lines ?? Array.from({ length: r.weighted([[1, 8], [2, 2], [3, 1], [4, 1]] as const) }, () => {
      const t = r.pick(TEXTS);
      const e = this.enhanced && code !== 334 && code !== 354 && code !== 220 && code !== 221 &&
        ENH[code / 100 | 0];
      return e ? (t ? `${e} ${t}` : e) : t;
    });
    return ls.map((l, i) => {
      const last = i === ls.length - 1;
      if (last && l === "" && r.chance(0.3)) return `${code}`; // "250" alone is a valid last line
      return `${code}${last ? " " : "-"}${l}`;
    }).join("\r\n") + "\r\n";
  }

  push(...replies: string[]): void {
    this.turns.push(replies.join(""));
  }

  /** Server's answer to QUIT: 221, or it just closes. */
  quit(): void {
    if (this.rng.chance(0.85)) this.push(this.reply(221, ["2.0.0 Bye"]));
  }
}

interface Caps {
  starttls: boolean;
  pipelining: boolean;
  /** SIZE as the client reads it: null (absent or junk), 0 (no limit), n. */
  size: number | null;
  eightbit: boolean;
  utf8: boolean;
  /** Upper-case mechanism names offered. */
  auth: string[];
}

function genCaps(rng: Rng, opts: SessionOptions, secure: boolean): { caps: Caps; lines: string[] } {
  const caps: Caps = {
    starttls: !secure ? rng.chance(0.85) : rng.chance(0.1),
    pipelining: rng.chance(0.6),
    size: null,
    eightbit: rng.chance(0.75),
    utf8: rng.chance(0.5),
    auth: [],
  };
  const word = (w: string) => (rng.chance(0.15) ? w.toLowerCase() : w);
  const lines: string[] = [];
  if (caps.starttls) lines.push(word("STARTTLS"));
  if (caps.pipelining) lines.push(word("PIPELINING"));
  if (caps.eightbit) lines.push(word("8BITMIME"));
  if (caps.utf8) lines.push(word("SMTPUTF8"));
  if (rng.chance(0.7)) {
    const kind = rng.weighted([["n", 6], ["bare", 1], ["zero", 1], ["junk", 1], ["small", 2]] as const);
    const n = rng.int(1_000_000, 50_000_000);
    const small = Math.max(1, Math.floor((opts.messageSize ?? 5000) / rng.int(2, 4)));
    const [text, value] = kind === "n"
      ? [`SIZE ${n}`, n]
      : kind === "bare"
      ? ["SIZE", 0]
      : kind === "zero"
      ? ["SIZE 0", 0]
      : kind === "junk"
      ? ["SIZE 10M", null]
      : [`SIZE ${small}`, small];
    caps.size = value;
    lines.push(text.replace("SIZE", word("SIZE")));
  }
  if (rng.chance(opts.auth ? 0.95 : 0.6)) {
    const pool = ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "GSSAPI", "SCRAM-SHA-256", "DIGEST-MD5"];
    const mechs = rng.shuffle([...pool]).slice(0, rng.int(1, 4));
    const want = opts.auth?.mechanism;
    if (want && rng.chance(0.85)) {
      const m = want === "auto" ? rng.pick(["CRAM-MD5", "PLAIN", "LOGIN"]) : SELECT[want];
      if (!mechs.includes(m)) mechs.push(m);
    }
    caps.auth = mechs;
    const shown = mechs.map((m) => (rng.chance(0.1) ? m.toLowerCase() : m)).join(" ");
    lines.push(rng.chance(0.2) ? `AUTH=${shown}` : `${word("AUTH")} ${shown}`);
  }
  for (const extra of ["ENHANCEDSTATUSCODES", "DSN", "CHUNKING", "HELP", "X-EXPS GSSAPI NTLM", "ETRN"]) {
    if (rng.chance(0.3)) lines.push(extra);
  }
  return { caps, lines: rng.shuffle(lines) };
}

const SELECT: Record<Exclude<AuthMechanismName, "auto">, string> = {
  plain: "PLAIN",
  login: "LOGIN",
  "cram-md5": "CRAM-MD5",
  xoauth2: "XOAUTH2",
};

/**
 * A valid server side for `opts` and the outcome a correct client reaches. Each turn answers one
 * client flight (greeting first; pipelined MAIL/RCPT/DATA is one flight).
 */
export function conversation(rng: Rng, opts: SessionOptions): { turns: string[]; expect: Expected } {
  const c = new Conversation(rng, opts);
  const expect = model(rng, opts, c);
  return { turns: c.turns, expect };
}

function model(rng: Rng, opts: SessionOptions, c: Conversation): Expected {
  const accepted: string[] = [];
  const fail = (code: ErrorCode, why: string, quit: boolean): Expected => {
    if (quit) c.quit();
    return { ok: false, code, accepted: [], why };
  };
  /** A refusal of a command: 421 closes, other 4xx/5xx QUIT. */
  const refused = (code: number, why: string): Expected =>
    fail(code < 500 ? "TEMPORARY_FAILURE" : "REJECTED", why, code !== 421);
  let secure = opts.strategy === "implicit";

  // Greeting.
  const g = rng.weighted([[220, 92], [554, 3], [421, 3], [450, 2]] as const);
  c.push(c.reply(g, g === 220 ? ["mx.test ESMTP"] : undefined));
  if (g !== 220) return refused(g, `greeting ${g}`);

  /** EHLO (or HELO fallback); returns caps, or an Expected when the session ends. */
  const hello = (): Caps | Expected => {
    const e = rng.weighted([[250, 93], [502, 3], [500, 1], [421, 1], [451, 1], [554, 1]] as const);
    if (e === 250) {
      const { caps, lines } = genCaps(rng, opts, secure);
      c.push(c.reply(250, ["mx.test Hello client.test", ...lines]));
      return caps;
    }
    c.push(c.reply(e));
    if (e >= 500) {
      if (!secure && opts.tls === "required") return fail("STARTTLS_UNAVAILABLE", `EHLO ${e}`, true);
      const h = rng.weighted([[250, 9], [550, 1]] as const);
      c.push(c.reply(h, h === 250 ? ["mx.test"] : undefined));
      if (h !== 250) return refused(h, `HELO ${h}`);
      return { starttls: false, pipelining: false, size: null, eightbit: false, utf8: false, auth: [] };
    }
    return refused(e, `EHLO ${e}`);
  };

  let caps = hello();
  if ("ok" in caps) return caps;

  // STARTTLS.
  if (!secure && opts.strategy === "starttls" && opts.tls !== "none") {
    if (caps.starttls) {
      const s = rng.weighted([[220, 90], [454, 4], [502, 3], [421, 3]] as const);
      c.push(c.reply(s, s === 220 ? ["2.0.0 Ready to start TLS"] : undefined));
      if (s === 220) {
        secure = true;
        caps = hello();
        if ("ok" in caps) return caps;
      } else if (opts.tls === "required" || s === 421) {
        return fail("STARTTLS_REFUSED", `STARTTLS ${s}`, s !== 421);
      }
    } else if (opts.tls === "required") {
      return fail("STARTTLS_UNAVAILABLE", "no STARTTLS", true);
    }
  }

  // AUTH.
  if (opts.auth) {
    if (!secure && !opts.allowPlaintextAuth) return fail("AUTH_UNAVAILABLE", "AUTH in clear", true);
    const wanted = opts.auth.mechanism;
    const order = wanted === "auto" ? ["CRAM-MD5", "PLAIN", "LOGIN"] : [SELECT[wanted]];
    const mech = order.find((m) => caps.auth.includes(m));
    if (!mech) return fail("AUTH_UNAVAILABLE", "no mechanism", true);
    if (mech === "LOGIN") {
      c.push(c.reply(334, ["VXNlcm5hbWU6"]));
      c.push(c.reply(334, ["UGFzc3dvcmQ6"]));
    } else if (mech === "CRAM-MD5") {
      c.push(c.reply(334, [toBase64(bytes(`<${rng.int(1, 1e6)}.${rng.int(1, 1e9)}@mx.test>`))]));
    }
    const maxRounds = opts.limits?.maxAuthRounds ?? 10;
    const rounds = mech === "LOGIN" ? 2 : mech === "CRAM-MD5" ? 1 : 0;
    if (rounds > maxRounds) {
      // The session gives up at the first challenge over the bound; trim what it never answers.
      c.turns.length -= rounds - maxRounds - 1;
      return fail("AUTH_FAILED", "too many challenges", false);
    }
    const a = rng.weighted([[235, 88], [535, 5], [454, 3], [504, 2], [421, 2]] as const);
    if (a === 535 && mech === "XOAUTH2" && rng.chance(0.5)) {
      // RFC 7628 error: a 334 with a base64 JSON status, the client answers an empty line, then 535.
      c.push(c.reply(334, [toBase64(bytes('{"status":"401","schemes":"bearer"}'))]));
    }
    c.push(c.reply(a, a === 235 ? ["2.7.0 Authentication successful"] : undefined));
    if (a === 535) return fail("AUTH_FAILED", "535", true);
    if (a === 504) return fail("AUTH_UNAVAILABLE", "504", true);
    if (a !== 235) return refused(a, `AUTH ${a}`);
  }

  const env = opts.envelope;
  if (!env) {
    c.quit();
    return { ok: true, accepted: [], why: "probe" };
  }
  if (opts.messageSize !== undefined && caps.size !== null && caps.size > 0 && opts.messageSize > caps.size) {
    return fail("REJECTED", "too big", true);
  }
  if (opts.needs8bit && !caps.eightbit) return fail("MESSAGE_INVALID", "no 8BITMIME", true);
  // deno-lint-ignore no-control-regex
  const utf8 = !!opts.needsSmtpUtf8 || [env.from, ...env.recipients].some((a) => /[^\x00-\x7f]/.test(a));
  if (utf8 && !caps.utf8) return fail("MESSAGE_INVALID", "no SMTPUTF8", true);

  const m = rng.weighted([[250, 88], [550, 4], [451, 4], [421, 2], [552, 2]] as const);
  const rc = env.recipients.map(() =>
    rng.weighted([[250, 75], [251, 3], [550, 10], [450, 8], [421, 1]] as const)
  );
  const rejected: number[] = [];
  const allRefused = (): ErrorCode => (rejected.every((x) => x < 500) ? "TEMPORARY_FAILURE" : "REJECTED");

  if (caps.pipelining) {
    const replies: string[] = [c.reply(m)];
    if (m === 421) {
      c.push(...replies);
      return fail("TEMPORARY_FAILURE", "MAIL 421", false);
    }
    const mailError: ErrorCode | null = m < 300 ? null : m < 500 ? "TEMPORARY_FAILURE" : "REJECTED";
    for (let i = 0; i < env.recipients.length; i++) {
      const code = mailError ? 503 : rc[i];
      replies.push(c.reply(code));
      if (code === 421) {
        c.push(...replies);
        return fail("TEMPORARY_FAILURE", "RCPT 421", false);
      }
      if (code < 300) accepted.push(env.recipients[i]);
      else rejected.push(code);
    }
    const none = mailError !== null || accepted.length === 0;
    const d = none
      ? rng.weighted([[554, 6], [503, 2], [354, 2], [421, 1]] as const)
      : rng.weighted([[354, 92], [554, 4], [451, 2], [421, 2]] as const);
    replies.push(c.reply(d));
    c.push(...replies);
    if (d === 421) return fail("TEMPORARY_FAILURE", "DATA 421", false);
    const noneCode = mailError ?? allRefused();
    if (d === 354 && none) {
      // RFC 2920 §3.1: the client ends the pointless transaction with an empty message.
      c.push(c.reply(rng.pick([250, 554, 503])));
      return fail(noneCode, "DATA 354 without a transaction", true);
    }
    if (none) return fail(noneCode, "nothing to send", true);
    if (d !== 354) return refused(d, `DATA ${d}`);
  } else {
    c.push(c.reply(m));
    if (m >= 300) return refused(m, `MAIL ${m}`);
    for (let i = 0; i < env.recipients.length; i++) {
      c.push(c.reply(rc[i]));
      if (rc[i] === 421) return fail("TEMPORARY_FAILURE", "RCPT 421", false);
      if (rc[i] < 300) accepted.push(env.recipients[i]);
      else rejected.push(rc[i]);
    }
    if (accepted.length === 0) return fail(allRefused(), "every RCPT refused", true);
    const d = rng.weighted([[354, 92], [554, 4], [451, 2], [421, 2]] as const);
    c.push(c.reply(d));
    if (d !== 354) return refused(d, `DATA ${d}`);
  }

  // The body went out; the reply to the final dot.
  const dot = rng.weighted([[250, 88], [554, 5], [451, 4], [421, 3]] as const);
  c.push(c.reply(dot, dot === 250 ? ["2.0.0 Ok: queued as 4Xq9Lm0z"] : undefined));
  if (dot !== 250) return refused(dot, `dot ${dot}`);
  c.quit();
  return { ok: true, accepted, why: "delivered" };
}

// ---- mutations ----------------------------------------------------------------------------------

type Turns = Uint8Array[];
type Mutator = (rng: Rng, turns: Turns, limits: ReplyLimits) => Turns;

const CODES = [
  "100",
  "199",
  "200",
  "220",
  "221",
  "235",
  "250",
  "251",
  "334",
  "354",
  "421",
  "450",
  "454",
  "500",
  "502",
  "503",
  "535",
  "550",
  "554",
  "599",
  "600",
  "999",
  "000",
  "2a0",
  "25 ",
  "2500",
  "abc",
  "-25",
  "\u00b2\u00b5\u00b0",
];
const INJECTED = [
  "250 ok\r\n",
  "235 2.7.0 Authentication successful\r\n",
  "250 2.0.0 Ok: queued\r\n",
  "354 go ahead\r\n",
  "220 Ready to start TLS\r\n",
  "220 mx.test ESMTP\r\n",
  "250-mx.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n",
  "334 \r\n",
  "334 VXNlcm5hbWU6\r\n",
  "221 bye\r\n",
  "421 4.3.2 shutting down\r\n",
  "550 5.1.1 no\r\n",
  "250-",
  "\r\n",
];

function nonEmpty(rng: Rng, turns: Turns): number {
  const idx = turns.map((t, i) => (t.length > 0 ? i : -1)).filter((i) => i >= 0);
  return idx.length === 0 ? -1 : rng.pick(idx);
}

function splice(t: Uint8Array, at: number, del: number, ins: Uint8Array): Uint8Array {
  return concat([t.subarray(0, at), ins, t.subarray(at + del)]);
}

function withTurn(turns: Turns, i: number, t: Uint8Array): Turns {
  const out = [...turns];
  out[i] = t;
  return out;
}

/** Applies `f` to the lines of one random turn. */
function onLines(rng: Rng, turns: Turns, f: (lines: Uint8Array[]) => Uint8Array[]): Turns {
  const i = nonEmpty(rng, turns);
  if (i < 0) return turns;
  return withTurn(turns, i, concat(f(splitLines(turns[i]))));
}

function longLine(rng: Rng, limits: ReplyLimits): Uint8Array {
  const n = Math.max(4, limits.maxLineBytes + rng.pick([-2, -1, 0, 1, 2, limits.maxLineBytes]));
  const b = new Uint8Array(n + 2).fill(0x78);
  b.set(bytes(rng.pick(["250-", "250 ", "550 ", "220 "])));
  b[n] = 0x0d;
  b[n + 1] = 0x0a;
  return b;
}

function bigReply(rng: Rng, limits: ReplyLimits): Uint8Array {
  const code = rng.pick(["250", "220", "550"]);
  const parts: string[] = [];
  if (rng.chance(0.5)) {
    // Around the line-count cap.
    const n = limits.maxReplyLines + rng.pick([-1, 0, 1, 5]);
    for (let i = 0; i < n - 1; i++) parts.push(`${code}-x\r\n`);
    parts.push(`${code} end\r\n`);
  } else {
    // Around the byte cap, with lines as long as allowed.
    const target = limits.maxReplyBytes + rng.pick([-3, -2, -1, 0, 1, 2, 200]);
    const per = Math.max(8, Math.min(limits.maxLineBytes, 500));
    let total = 0;
    while (total + per + 2 < target) {
      parts.push(`${code}-${"y".repeat(per - 4)}\r\n`);
      total += per + 2;
    }
    const rest = Math.max(4, target - total - 2);
    parts.push(`${code} ${"z".repeat(rest - 4)}\r\n`);
  }
  return bytes(parts.join(""));
}

const MUTATORS: readonly (readonly [string, number, Mutator])[] = [
  ["flip", 4, (rng, ts) => {
    const i = nonEmpty(rng, ts);
    if (i < 0) return ts;
    const t = ts[i].slice();
    const p = rng.int(0, t.length - 1);
    t[p] = rng.chance(0.5) ? t[p] ^ (1 << rng.int(0, 7)) : rng.int(0, 255);
    return withTurn(ts, i, t);
  }],
  ["truncate", 3, (rng, ts) => {
    const i = nonEmpty(rng, ts);
    if (i < 0) return ts;
    return [...ts.slice(0, i), ts[i].subarray(0, rng.int(0, ts[i].length - 1))];
  }],
  ["insert-byte", 4, (rng, ts) => {
    const i = nonEmpty(rng, ts);
    if (i < 0) return ts;
    const b = rng.pick([0x0d, 0x0a, 0x00, 0x80 + rng.int(0, 127), 0x1b, 0x20, 0x2d, rng.int(0, 255)]);
    return withTurn(ts, i, splice(ts[i], rng.int(0, ts[i].length), 0, Uint8Array.of(b)));
  }],
  ["delete-bytes", 2, (rng, ts) => {
    const i = nonEmpty(rng, ts);
    if (i < 0) return ts;
    const at = rng.int(0, ts[i].length - 1);
    return withTurn(ts, i, splice(ts[i], at, rng.int(1, 4), new Uint8Array(0)));
  }],
  ["dup-line", 3, (rng, ts) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length - 1);
      return [...ls.slice(0, j + 1), ls[j], ...ls.slice(j + 1)];
    })],
  ["drop-line", 3, (rng, ts) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length - 1);
      return [...ls.slice(0, j), ...ls.slice(j + 1)];
    })],
  ["swap-lines", 1, (rng, ts) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length - 1);
      const k = rng.int(0, ls.length - 1);
      const out = [...ls];
      [out[j], out[k]] = [out[k], out[j]];
      return out;
    })],
  ["wrong-code", 5, (rng, ts) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length - 1);
      const out = [...ls];
      out[j] = splice(ls[j], 0, Math.min(3, ls[j].length), bytes(rng.pick(CODES)));
      return out;
    })],
  ["flip-separator", 3, (rng, ts) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length - 1);
      const out = [...ls];
      const l = ls[j];
      if (l.length < 4) return out;
      const sep = rng.pick([0x20, 0x2d, 0x09, 0x2e, 0x00]);
      out[j] = rng.chance(0.2) ? splice(l, 3, 1, new Uint8Array(0)) : splice(l, 3, 1, Uint8Array.of(sep));
      return out;
    })],
  ["bad-eol", 3, (rng, ts) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length - 1);
      const out = [...ls];
      const l = ls[j];
      const ends = l.length >= 2 && l[l.length - 2] === 0x0d && l[l.length - 1] === 0x0a;
      const body = ends ? l.subarray(0, l.length - 2) : l;
      out[j] = concat([body, bytes(rng.pick(["\n", "\r", "\r\r\n", "\n\r", "", "\r\n\r\n", "\r\0\n"]))]);
      return out;
    })],
  ["long-line", 2, (rng, ts, lim) =>
    onLines(rng, ts, (ls) => {
      const j = rng.int(0, ls.length);
      return [...ls.slice(0, j), longLine(rng, lim), ...ls.slice(j)];
    })],
  ["big-reply", 2, (rng, ts, lim) => {
    const i = rng.int(0, ts.length - 1);
    if (ts.length === 0) return [bigReply(rng, lim)];
    return withTurn(ts, i, rng.chance(0.5) ? bigReply(rng, lim) : concat([bigReply(rng, lim), ts[i]]));
  }],
  ["endless", 1, (rng, ts, lim) => {
    // The reply never ends: its last line becomes a continuation, then many more continuations.
    const i = nonEmpty(rng, ts);
    if (i < 0) return ts;
    const ls = splitLines(ts[i]);
    const j = ls.length - 1;
    const l = ls[j].slice();
    if (l.length >= 4) l[3] = 0x2d;
    const more = rng.chance(0.5)
      ? bytes("250-x\r\n".repeat(Math.min(lim.maxReplyLines + 1, 2000)))
      : new Uint8Array(0);
    return [...ts.slice(0, i), concat([...ls.slice(0, j), l, more])];
  }],
  ["inject-reply", 5, (rng, ts) => {
    const extra = bytes(rng.pick(INJECTED));
    if (ts.length === 0 || rng.chance(0.15)) {
      const i = rng.int(0, ts.length);
      return [...ts.slice(0, i), extra, ...ts.slice(i)];
    }
    const i = rng.int(0, ts.length - 1);
    const ls = splitLines(ts[i]);
    const j = rng.chance(0.5) ? ls.length : rng.int(0, ls.length);
    return withTurn(ts, i, concat([...ls.slice(0, j), extra, ...ls.slice(j)]));
  }],
  ["merge-turns", 3, (rng, ts) => {
    if (ts.length < 2) return ts;
    const i = rng.int(0, ts.length - 2);
    return [...ts.slice(0, i), concat([ts[i], ts[i + 1]]), ...ts.slice(i + 2)];
  }],
  ["split-turn", 2, (rng, ts) => {
    const i = nonEmpty(rng, ts);
    if (i < 0) return ts;
    const at = rng.int(0, ts[i].length);
    return [...ts.slice(0, i), ts[i].subarray(0, at), ts[i].subarray(at), ...ts.slice(i + 1)];
  }],
  ["drop-turn", 2, (rng, ts) => {
    if (ts.length === 0) return ts;
    const i = rng.int(0, ts.length - 1);
    return [...ts.slice(0, i), ...ts.slice(i + 1)];
  }],
  ["dup-turn", 1, (rng, ts) => {
    if (ts.length === 0) return ts;
    const i = rng.int(0, ts.length - 1);
    return [...ts.slice(0, i + 1), ts[i], ...ts.slice(i + 1)];
  }],
  ["repeat-turn", 1, (rng, ts) => {
    // E.g. endless 334 challenges, or the same reply over and over.
    if (ts.length === 0) return ts;
    const i = rng.int(0, ts.length - 1);
    return [
      ...ts.slice(0, i + 1),
      ...Array.from({ length: rng.int(2, 30) }, () => ts[i]),
      ...ts.slice(i + 1),
    ];
  }],
  ["swap-turns", 1, (rng, ts) => {
    if (ts.length < 2) return ts;
    const i = rng.int(0, ts.length - 2);
    return [...ts.slice(0, i), ts[i + 1], ts[i], ...ts.slice(i + 2)];
  }],
  ["garbage", 1, (rng, ts) => {
    const g = new Uint8Array(rng.int(1, 64));
    for (let k = 0; k < g.length; k++) {
      g[k] = rng.chance(0.3) ? rng.pick([0x0d, 0x0a, 0x32, 0x35, 0x30, 0x20, 0x2d]) : rng.int(0, 255);
    }
    const i = rng.int(0, ts.length);
    return rng.chance(0.5) && ts.length > 0
      ? withTurn(ts, Math.min(i, ts.length - 1), g)
      : [...ts.slice(0, i), g, ...ts.slice(i)];
  }],
];

/** Applies 1..8 random mutations (mostly one); returns the turns and the mutation names. */
export function mutate(rng: Rng, turns: Turns, limits: ReplyLimits): { turns: Turns; names: string[] } {
  const n = rng.weighted([[1, 12], [2, 4], [3, 2], [5, 1], [8, 1]] as const);
  const names: string[] = [];
  let ts = turns;
  for (let k = 0; k < n; k++) {
    const [name, , f] = rng.weighted(MUTATORS.map((m) => [m, m[1]] as const));
    ts = f(rng, ts, limits);
    names.push(name);
  }
  return { turns: ts, names };
}

/** Cuts bytes into chunks: whole, fixed size, or random sizes 1..N. */
export function segment(rng: Rng, b: Uint8Array): Uint8Array[] {
  if (b.length === 0) return [];
  const mode = rng.weighted([["whole", 3], ["fixed", 3], ["random", 5]] as const);
  if (mode === "whole") return [b];
  const out: Uint8Array[] = [];
  if (mode === "fixed") {
    const k = b.length > 4000 ? rng.pick([64, 511, 4096]) : rng.pick([1, 1, 2, 3, 5, 8, 13, 64]);
    for (let i = 0; i < b.length; i += k) out.push(b.subarray(i, i + k));
    return out;
  }
  const max = rng.pick([2, 4, 16, 64, 256, 4096]);
  for (let i = 0; i < b.length;) {
    const k = rng.int(1, max);
    out.push(b.subarray(i, i + k));
    i += k;
  }
  return out;
}

// ---- hostile options (R8) -------------------------------------------------------------------------

const HOSTILE_TEXT = [
  "a\r\nRSET",
  "x@y\nMAIL FROM:<evil@x>",
  "a\rb@x",
  "nul\0@x",
  "tab\t@x",
  "sp ace@x",
  " lead@x",
  "trail@x ",
  "",
  "<a@x>",
  "a@x> SIZE=1",
  "\u00e9@x.test",
  "\u2028@x",
  "a@x\u0085",
  "\x1b[31m@x",
  "\x7f@x",
  "x".repeat(600) + "@x",
  "a@x.test",
];
// JSON-safe only (fixtures must round-trip): no NaN or Infinity.
const HOSTILE_NUMBERS = [-1, 0, 1, 1.5, 3, 2 ** 53, 1e300, null];

/** Corrupts 1–2 option fields: the constructor must refuse with CONFIG_INVALID/MESSAGE_INVALID or cope. */
export function hostileOptions(rng: Rng, o: SessionOptions): { options: SessionOptions; names: string[] } {
  const x: SessionOptions = JSON.parse(JSON.stringify(o));
  const names: string[] = [];
  const num = () => rng.pick(HOSTILE_NUMBERS) as number;
  for (let k = rng.int(1, 2); k > 0; k--) {
    const field = rng.pick(
      [
        "helo",
        "from",
        "rcpt",
        "rcpts-empty",
        "rcpts-dup",
        "user",
        "password",
        "mechanism",
        "messageSize",
        "maxLineBytes",
        "maxReplyBytes",
        "maxReplyLines",
        "maxAuthRounds",
        "plain-required",
      ] as const,
    );
    names.push(`options:${field}`);
    const env = x.envelope ?? (x.envelope = { from: "a@x.test", recipients: ["r1@y.test"] });
    const auth = x.auth ?? (x.auth = { mechanism: "auto", user: "me", password: "pw" });
    const limits = x.limits ?? (x.limits = {});
    switch (field) {
      case "helo":
        x.helo = rng.pick(HOSTILE_TEXT);
        break;
      case "from":
        env.from = rng.pick(HOSTILE_TEXT);
        break;
      case "rcpt":
        env.recipients[rng.int(0, env.recipients.length - 1)] = rng.pick(HOSTILE_TEXT);
        break;
      case "rcpts-empty":
        env.recipients = [];
        break;
      case "rcpts-dup":
        env.recipients = [...env.recipients, env.recipients[0] ?? "r1@y.test"];
        break;
      case "user":
        auth.user = rng.pick(HOSTILE_TEXT);
        break;
      case "password":
        auth.password = rng.pick(HOSTILE_TEXT);
        break;
      case "mechanism":
        auth.mechanism = rng.pick(["bogus", "PLAIN", "", "login\r\n"]) as AuthMechanismName;
        break;
      case "messageSize":
        x.messageSize = num();
        break;
      case "maxLineBytes":
        limits.maxLineBytes = num();
        break;
      case "maxReplyBytes":
        limits.maxReplyBytes = num();
        break;
      case "maxReplyLines":
        limits.maxReplyLines = num();
        break;
      case "maxAuthRounds":
        limits.maxAuthRounds = num();
        break;
      case "plain-required":
        x.strategy = "plain";
        x.tls = "required";
        break;
    }
  }
  return { options: x, names };
}

// ---- whole inputs ---------------------------------------------------------------------------------

/** The session input for `seed`; `mutated` forces (or forbids) mutations, else 80 % are mutated. */
export function genSessionCase(seed: number, mutated?: boolean): SessionCase {
  const rng = new Rng(seed);
  const options = genOptions(rng);
  const conv = conversation(rng, options);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  let turns = conv.turns.map((t) => bytes(t));
  const doMutate = mutated ?? rng.chance(0.8);
  let mutations: string[] = [];
  let opts = options;
  if (doMutate) ({ turns, names: mutations } = mutate(rng, turns, limits));
  if (doMutate && rng.chance(0.06)) {
    const h = hostileOptions(rng, options);
    opts = h.options;
    mutations = [...h.names, ...mutations];
  }
  const driver: DriverOptions = { earlyDot: rng.chance(0.3), stall: rng.chance(0.5) ? "push" : "timeout" };
  if (doMutate && options.strategy === "implicit" && rng.chance(0.1)) driver.implicitLate = true;
  const out: SessionCase = {
    seed,
    options: opts,
    driver,
    turns: turns.map((t) => segment(rng, t)),
    mutations,
  };
  if (!doMutate) out.expect = conv.expect;
  return out;
}

/** A reply stream for the parser alone: valid replies, mutated, or grammar-heavy noise. */
export function genParserCase(seed: number): ParserCase {
  const rng = new Rng(seed);
  const limits: ReplyLimits = rng.chance(0.3) ? { ...DEFAULT_LIMITS } : {
    maxLineBytes: rng.int(3, 300),
    maxReplyBytes: rng.int(5, 3000),
    maxReplyLines: rng.int(1, 40),
  };
  const parts: string[] = [];
  const n = rng.int(1, 10);
  for (let i = 0; i < n; i++) {
    const code = rng.weighted(
      [[rng.int(200, 599), 6], [rng.pick([250, 220, 354, 334, 421, 550]), 4]] as const,
    );
    const lines = rng.weighted([[1, 6], [2, 2], [3, 1], [rng.int(4, 60), 1]] as const);
    const cls = Math.floor(code / 100);
    for (let k = 0; k < lines; k++) {
      const enh = rng.chance(0.4)
        ? `${rng.chance(0.8) ? cls : rng.pick([2, 4, 5])}.${rng.int(0, 999)}.${rng.int(0, 999)}`
        : "";
      const text = rng.pick(TEXTS).slice(0, rng.int(0, 40));
      const body = rng.chance(0.1)
        ? ""
        : " " + [enh, text].filter((x) => x !== "").join(rng.pick([" ", "", "\t"]));
      const sep = k === lines - 1 ? " " : "-";
      parts.push(`${code}${body === "" ? (sep === " " ? "" : "-") : sep + body.slice(1)}\r\n`);
    }
  }
  let turns: Turns = [bytes(parts.join(""))];
  let mutations: string[] = [];
  if (rng.chance(0.15)) {
    // Noise over a tiny alphabet that hits the grammar's edges.
    const noise = new Uint8Array(rng.int(1, 400));
    const alpha = bytes("0123456789 -\r\n\r\n2502205x.\t\x00\x80");
    for (let k = 0; k < noise.length; k++) noise[k] = alpha[rng.int(0, alpha.length - 1)];
    turns = [noise];
    mutations = ["noise"];
  } else if (rng.chance(0.7)) {
    ({ turns, names: mutations } = mutate(rng, turns, limits));
  }
  const all = concat(turns);
  return { seed, limits, chunks: segment(rng, all), mutations };
}
