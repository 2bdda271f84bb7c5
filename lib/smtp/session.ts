/**
 * The sans-IO SMTP client session: greeting → EHLO → STARTTLS → (forget capabilities) EHLO → AUTH →
 * MAIL/RCPT/DATA (pipelined when offered) → body → dot → QUIT. It consumes bytes and TLS facts,
 * returns {@link Action}s, and enforces the TLS policy whatever the server advertises.
 * @module
 */
import { selectMechanism } from "./auth/select.ts";
import type { SaslClient } from "./auth/types.ts";
import { decodeBase64 } from "./base64.ts";
import { authMechanisms, type Capabilities, NO_CAPABILITIES, parseCapabilities, sizeLimit } from "./capabilities.ts";
import * as cmd from "./command.ts";
import { type Phase, SmtpError } from "./errors.ts";
import { type Reply, replyClass, ReplyParser } from "./reply.ts";
import { replyError, unexpectedReply } from "./reply-errors.ts";
import { SessionErrors as E } from "./session-errors.ts";
import { validateSessionOptions } from "./session-options.ts";
import { notSent, Transaction } from "./transactions.ts";
import type {
  Action,
  SessionOptions,
  SessionResult,
  TlsFacts,
  Waiting,
} from "./types.ts";

type Kind =
  | "greeting"
  | "ehlo"
  | "helo"
  | "starttls"
  | "auth"
  | "mail"
  | "rcpt"
  | "data"
  | "dot"
  | "dot-abort"
  | "rset"
  | "quit";

interface Pending {
  kind: Kind;
  phase: Phase;
  address?: string;
  /** The transaction a MAIL/RCPT/DATA/dot/RSET belongs to. */
  tx?: Transaction;
}

const PHASE: Record<Kind, Phase> = {
  greeting: "greeting",
  ehlo: "ehlo",
  helo: "ehlo",
  starttls: "starttls",
  auth: "auth",
  mail: "mail",
  rcpt: "rcpt",
  data: "data",
  dot: "dot",
  "dot-abort": "data",
  rset: "mail",
  quit: "quit",
};

const encoder = new TextEncoder();
const REDACTED = "***";

/**
 * One SMTP client session for one transaction (or a probe when `envelope` is absent).
 * Every method returns the actions to perform, in order; after `done`/`fail` it returns [].
 * @example
 * const s = new SmtpSession({ strategy: "starttls", tls: "required", helo: "me.example",
 *   envelope: { from: "a@x", recipients: ["b@y"] } });
 * for (const a of s.receive(bytesFromServer)) { ... } // send / starttls / send-body / close / done / fail
 */
export class SmtpSession {
  private readonly opts: SessionOptions;
  private readonly parser: ReplyParser;
  private readonly maxAuthRounds: number;
  /** The queue: one transaction for `envelope`, several for `transactions`, none in probe mode. */
  private readonly txs: Transaction[] = [];
  /** Built with `transactions`: one `transaction` action per message, the final action is the connection's. */
  private readonly multi: boolean;
  /** Index of the next transaction to start. */
  private next = 0;
  /** The transaction `result()` describes: the last one started (or the first). */
  private cur: Transaction | null = null;
  /** The last transaction ended before its dot was answered: the next starts with RSET. */
  private needRset = false;
  private pending: Pending[] = [];
  private out: Action[] = [];
  private waitingFor: Waiting = "reply";
  private lastPhase: Phase = "greeting";
  private secure = false;
  private tls: TlsFacts | null = null;
  private caps: Capabilities | null = null;
  private pipelining = false;
  private heloFallback = false;
  private sasl: SaslClient | null = null;
  private authRounds = 0;
  private authenticated: string | null = null;
  /** Outcome decided before QUIT: null = success. */
  private outcome: SmtpError | null = null;
  private finished = false;
  /** A reply that arrived while the body was being written (the engine may see the dot's reply before bodySent()). */
  private early: Reply | null = null;

  /** Validates the options; throws CONFIG_INVALID (helo, auth user, policy) or MESSAGE_INVALID (addresses). */
  constructor(options: SessionOptions) {
    this.opts = options;
    const needsUtf8 = validateSessionOptions(options);
    this.multi = options.transactions !== undefined;
    if (this.multi && options.envelope) throw new Error("give either envelope or transactions, not both");
    if (options.envelope) {
      const { envelope, messageSize, needs8bit, needsSmtpUtf8 } = options;
      this.txs.push(new Transaction(0, { envelope, messageSize, needs8bit, needsSmtpUtf8 }, needsUtf8));
    }
    options.transactions?.forEach((spec, i) => this.txs.push(new Transaction(i, spec)));
    this.cur = this.txs[0] ?? null;
    this.parser = new ReplyParser(options.limits);
    this.maxAuthRounds = options.limits?.maxAuthRounds ?? 10;
    if (options.strategy === "implicit") this.waitingFor = "tls";
    else this.pending.push({ kind: "greeting", phase: "greeting" });
  }

  /** What the session waits for: a reply, the TLS handshake, the body, or nothing (finished). */
  get waiting(): Waiting {
    return this.finished ? "nothing" : this.waitingFor;
  }

  /** The current phase (names the deadline and the error phase). */
  get phase(): Phase {
    if (this.finished) return this.lastPhase;
    if (this.waitingFor === "tls") return "tls";
    if (this.waitingFor === "body") return "data";
    return this.pending[0]?.phase ?? this.lastPhase;
  }

  /**
   * Once QUIT is written the outcome cannot change (the 221, a close or a timeout only end the
   * connection): `{ error }` then (null = success), else null. Lets the engine answer before the 221.
   */
  get decided(): { error: SmtpError | null } | null {
    return !this.finished && this.pending[0]?.kind === "quit" ? { error: this.outcome } : null;
  }

  /** True after `done` or `fail` was returned. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Feeds bytes read from the server (any segmentation). */
  receive(bytes: Uint8Array): Action[] {
    if (bytes.length === 0) return [];
    return this.run(() => {
      if (this.waitingFor === "tls") {
        if (!this.secure && this.opts.strategy === "implicit" && this.pending.length === 0) {
          return this.failClose(E.plaintextOnImplicit());
        }
        return this.failClose(E.injectedAfter220(0));
      }
      this.parser.push(bytes);
      this.drain();
    });
  }

  /** The engine completed and verified a TLS handshake (after a `starttls` action, or first thing for implicit TLS). */
  tlsEstablished(facts: TlsFacts): Action[] {
    return this.run(() => {
      if (this.waitingFor !== "tls") {
        throw new Error("tlsEstablished() called while no TLS handshake was expected");
      }
      const implicitStart = !this.secure && this.opts.strategy === "implicit";
      this.secure = true;
      this.tls = facts;
      this.caps = null; // RFC 3207 §4.2: forget everything learned in clear
      this.pipelining = false;
      this.parser.reset();
      this.waitingFor = "reply";
      if (implicitStart) {
        this.pending.push({ kind: "greeting", phase: "greeting" });
      } else {
        this.sendEhlo();
      }
    });
  }

  /** The engine wrote the whole encoded body, terminator included. */
  bodySent(): Action[] {
    return this.run(() => {
      if (this.waitingFor !== "body") throw new Error("bodySent() called while no body was expected");
      this.waitingFor = "reply";
      const dot: Pending = { kind: "dot", phase: "dot", tx: this.cur! };
      this.pending.push(dot);
      const early = this.early;
      this.early = null;
      if (early) {
        this.pending.shift();
        this.lastPhase = "dot";
        this.handle(dot, early);
      } else if (this.multi && this.pipelining) {
        // RFC 2920: the next MAIL/RCPT/DATA follow the dot; the engine writes them with the terminator.
        this.startNext();
      }
      this.drain(); // more replies may already be buffered
    });
  }

  /** The connection ended (EOF or reset). */
  closed(): Action[] {
    return this.run(() => {
      const phase = this.phase;
      if (phase === "quit") return this.finish();
      if (this.early) return this.failClose(replyError(this.early, "data", "interrupted the message"));
      if (phase === "dot") {
        return this.failClose(E.deliveryUnknown("closed"));
      }
      if (phase === "tls") {
        return this.failClose(E.handshakeClosed());
      }
      if (this.parser.buffered > 0) return this.failClose(E.unterminatedLine(phase));
      return this.failClose(E.connectionClosed(phase));
    });
  }

  /** The engine's deadline for the current wait expired. */
  timeout(): Action[] {
    return this.run(() => {
      const phase = this.phase;
      if (phase === "quit") return this.finish();
      if (phase === "dot") {
        return this.failClose(E.deliveryUnknown("timeout"));
      }
      return this.failClose(E.timeout(phase, this.opts.strategy));
    });
  }

  /** A snapshot of the result so far. */
  result(): SessionResult {
    const tx = this.cur;
    const r: SessionResult = {
      tls: this.tls,
      accepted: tx ? [...tx.accepted] : [],
      rejected: tx ? tx.rejected.map((x) => ({ ...x })) : [],
      response: tx?.response ?? null,
      capabilities: this.caps && !this.heloFallback
        ? Object.fromEntries([...this.caps].map(([k, v]) => [k, [...v]]))
        : null,
      authenticated: this.authenticated,
    };
    if (!this.outcome && tx && tx.rejected.length > 0 && tx.response) {
      r.error = E.someRecipientsRefused(tx.accepted.length, tx.rejected);
    }
    return r;
  }

  // ---- machinery ---------------------------------------------------------------------------

  private run(step: () => void): Action[] {
    if (this.finished) return [];
    this.out = [];
    try {
      step();
    } catch (e) {
      if (!(e instanceof SmtpError)) throw e;
      this.failClose(e);
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  private drain(): void {
    while (!this.finished && (this.waitingFor === "reply" || this.waitingFor === "body")) {
      const head = this.pending[0];
      let reply: Reply | null;
      try {
        reply = this.parser.next(head?.phase ?? this.phase);
      } catch (e) {
        if (!(e instanceof SmtpError)) throw e;
        if (head?.kind === "quit") return this.finish();
        if (head?.kind === "starttls") {
          return this.failClose(E.starttlsMalformed());
        }
        return this.failClose(e);
      }
      if (!reply) return;
      if (this.waitingFor === "body") {
        // Held until bodySent(): the engine may read the dot's reply before it calls bodySent().
        if (this.early) return this.failClose(unexpectedReply(reply, "data"));
        this.early = reply;
        continue;
      }
      if (!head) return this.failClose(unexpectedReply(reply, this.lastPhase));
      this.pending.shift();
      this.lastPhase = head.phase;
      this.handle(head, reply);
    }
  }

  private handle(p: Pending, r: Reply): void {
    switch (p.kind) {
      case "greeting":
        return this.onGreeting(r);
      case "ehlo":
        return this.onEhlo(r);
      case "helo":
        return this.onHelo(r);
      case "starttls":
        return this.onStarttls(r);
      case "auth":
        return this.onAuth(r);
      case "mail":
        return this.onMail(r, p.tx!);
      case "rcpt":
        return this.onRcpt(r, p.address!, p.tx!);
      case "data":
        return this.onData(r, p.tx!);
      case "dot":
        return this.onDot(r, p.tx!);
      case "dot-abort":
        return this.settle(p.tx!, p.tx!.abortError ?? this.noRecipients(p.tx!), true);
      case "rset":
        return this.onRset(r, p.tx!);
      case "quit":
        return this.finish();
    }
  }

  /** Queues commands and emits them as one send action. Bytes the server sent unasked are an error. */
  private send(commands: { kind: Kind; line: string; address?: string; redacted?: string; tx?: Transaction }[]): void {
    if (this.pending.length === 0 && this.parser.buffered > 0) {
      const first = commands[0].kind;
      if (first === "starttls") {
        return this.failClose(E.injectedBeforeStarttls());
      }
      return this.failClose(E.unsolicited(PHASE[first], first.toUpperCase()));
    }
    const text = commands.map((c) => c.line).join("");
    const action: Action = { type: "send", bytes: encoder.encode(text) };
    if (commands.some((c) => c.redacted !== undefined)) {
      action.redacted = commands.map((c) => c.redacted ?? c.line).join("");
    }
    this.out.push(action);
    for (const c of commands) this.pending.push({ kind: c.kind, phase: PHASE[c.kind], address: c.address, tx: c.tx });
  }

  private failClose(error: SmtpError): void {
    this.outcome = error;
    this.finish();
  }

  /** Ends politely: QUIT, then `fail` (or `done` when `error` is null) once the server answered or left. */
  private failQuit(error: SmtpError | null): void {
    this.outcome = error;
    this.sendQuit();
  }

  private sendQuit(): void {
    if (this.pending.length > 0 || this.parser.buffered > 0) return this.finish();
    this.send([{ kind: "quit", line: cmd.quit() }]);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.pending = [];
    this.settleRest();
    this.out.push({ type: "close" });
    if (this.outcome) {
      this.lastPhase = this.outcome.phase;
      this.out.push({ type: "fail", error: this.outcome, result: this.result() });
    } else {
      this.out.push({ type: "done", result: this.result() });
    }
  }

  /** 421 closes at once (the server is leaving); other refusals QUIT first. */
  private refuse(r: Reply, phase: Phase, what: string): void {
    const err = replyError(r, phase, what);
    if (r.code === 421 || err.code === "PROTOCOL_ERROR") this.failClose(err);
    else this.failQuit(err);
  }

  // ---- steps -------------------------------------------------------------------------------

  private onGreeting(r: Reply): void {
    if (r.code === 220) return this.sendEhlo();
    this.refuse(r, "greeting", "refused the connection");
  }

  private sendEhlo(): void {
    this.send([{ kind: "ehlo", line: cmd.ehlo(this.opts.helo) }]);
  }

  private onEhlo(r: Reply): void {
    if (r.code === 250) {
      this.caps = parseCapabilities(r);
      this.heloFallback = false;
      this.pipelining = this.caps.has("PIPELINING");
      return this.afterHello();
    }
    if (replyClass(r.code) === "permanent") {
      if (!this.secure && this.opts.tls === "required") {
        return this.failQuit(E.ehloRefusedTlsRequired(r));
      }
      return this.send([{ kind: "helo", line: cmd.helo(this.opts.helo) }]);
    }
    this.refuse(r, "ehlo", "refused EHLO");
  }

  private onHelo(r: Reply): void {
    if (r.code !== 250) return this.refuse(r, "ehlo", "refused HELO");
    this.caps = NO_CAPABILITIES;
    this.heloFallback = true;
    this.pipelining = false;
    this.afterHello();
  }

  private afterHello(): void {
    const o = this.opts;
    if (!this.secure && o.strategy === "starttls" && o.tls !== "none") {
      if (this.caps?.has("STARTTLS")) return this.send([{ kind: "starttls", line: cmd.starttls() }]);
      if (o.tls === "required") {
        return this.failQuit(E.noStarttls());
      }
    }
    this.startAuth();
  }

  private onStarttls(r: Reply): void {
    if (r.code === 220) {
      if (this.parser.buffered > 0) {
        return this.failClose(E.injectedAfter220(this.parser.buffered, r));
      }
      this.waitingFor = "tls";
      this.out.push({ type: "starttls" });
      return;
    }
    if (this.opts.tls === "opportunistic" && r.code !== 421) return this.startAuth();
    const err = E.starttlsRefused(r);
    if (r.code === 421) this.failClose(err);
    else this.failQuit(err);
  }

  private startAuth(): void {
    const o = this.opts;
    if (o.tls === "required" && !this.secure) {
      // Unreachable by construction; kept so no credential or message byte can leave in clear.
      return this.failClose(E.notSecured("ehlo"));
    }
    if (!o.auth) return this.startMail();
    if (!this.secure && !o.allowPlaintextAuth) {
      return this.failQuit(E.authInClear());
    }
    let sasl: SaslClient;
    try {
      sasl = selectMechanism(o.auth.mechanism, this.caps ? authMechanisms(this.caps) : [], {
        user: o.auth.user,
        password: o.auth.password,
      });
    } catch (e) {
      if (e instanceof SmtpError) return this.failQuit(e);
      throw e;
    }
    this.sasl = sasl;
    this.authRounds = 0;
    this.send([{
      kind: "auth",
      line: cmd.auth(sasl.name, sasl.initial),
      redacted: sasl.initial === undefined ? undefined : `AUTH ${sasl.name} ${REDACTED}\r\n`,
    }]);
  }

  private onAuth(r: Reply): void {
    const sasl = this.sasl!;
    if (r.code === 235) {
      this.authenticated = sasl.name;
      return this.startMail();
    }
    if (r.code === 334) {
      this.authRounds++;
      if (this.authRounds > this.maxAuthRounds) {
        return this.failClose(E.tooManyChallenges(this.maxAuthRounds, sasl.name, r));
      }
      const challenge = r.lines.length === 1 ? decodeBase64(r.lines[0]) : null;
      if (!challenge) {
        return this.failClose(E.badChallenge(r));
      }
      const response = sasl.respond(challenge, this.authRounds);
      return this.send([{ kind: "auth", line: cmd.authResponse(response), redacted: `${REDACTED}\r\n` }]);
    }
    if (replyClass(r.code) === "transient") { // 421 included
      return this.refuse(r, "auth", "could not authenticate");
    }
    if (r.code === 504) {
      return this.failQuit(E.mechanismRefused(sasl.name, r));
    }
    if (replyClass(r.code) === "permanent") {
      return this.failQuit(E.credentialsRejected(r));
    }
    this.failClose(unexpectedReply(r, "auth"));
  }

  private startMail(): void {
    const o = this.opts;
    if (this.txs.length === 0) return this.failQuit(null);
    if (o.tls === "required" && !this.secure) {
      return this.failClose(E.notSecured("mail"));
    }
    this.advance();
  }

  // ---- transactions: one after another on this connection (lib/smtp/transactions.ts holds their state) ----

  /** Nothing of a transaction is in flight: start the next one, or QUIT when the queue is done. */
  private advance(): void {
    if (this.pending.length > 0 || this.waitingFor !== "reply") return; // the next one is already under way
    if (this.startNext()) return;
    this.failQuit(this.multi ? null : this.txs[0].error);
  }

  /** Writes the next transaction that can start (RSET first after an aborted one); false when none is left. */
  private startNext(): boolean {
    while (this.next < this.txs.length) {
      const tx = this.txs[this.next++];
      const refused = tx.invalid ?? this.precheck(tx);
      if (refused) {
        this.record(tx, refused); // nothing of it was written: the connection's state is unchanged
        continue;
      }
      this.cur = tx;
      tx.started = true;
      const rset = this.needRset ? [{ kind: "rset" as const, line: cmd.rset(), tx }] : [];
      this.needRset = false;
      if (rset.length > 0 && !this.pipelining) this.send(rset);
      else this.sendMail(tx, rset);
      return true;
    }
    return false;
  }

  /** What the server's capabilities rule out for this message before any byte of it is written. */
  private precheck(tx: Transaction): SmtpError | null {
    const caps = this.caps ?? NO_CAPABILITIES;
    const limit = sizeLimit(caps);
    const s = tx.spec;
    if (s.messageSize !== undefined && limit !== null && limit > 0 && s.messageSize > limit) {
      return E.tooBig(s.messageSize, limit);
    }
    if (s.needs8bit && !caps.has("8BITMIME")) return E.no8bitmime();
    if (tx.needsUtf8 && !caps.has("SMTPUTF8")) return E.noSmtputf8();
    return null;
  }

  private sendMail(tx: Transaction, before: { kind: Kind; line: string; tx: Transaction }[]): void {
    const s = tx.spec;
    const limit = sizeLimit(this.caps ?? NO_CAPABILITIES);
    const mail = {
      kind: "mail" as const,
      tx,
      line: cmd.mailFrom(s.envelope.from, {
        size: limit !== null && s.messageSize !== undefined ? s.messageSize : undefined,
        body8bit: !!s.needs8bit,
        smtputf8: tx.needsUtf8,
      }),
    };
    if (!this.pipelining) return this.send([...before, mail]);
    this.send([
      ...before,
      mail,
      ...s.envelope.recipients.map((a) => ({ kind: "rcpt" as const, line: cmd.rcptTo(a), address: a, tx })),
      { kind: "data", line: cmd.data(), tx },
    ]);
  }

  /** Records a transaction's end; with `transactions`, reports it at once as a `transaction` action. */
  private record(tx: Transaction, error: SmtpError | null): void {
    tx.settled = true;
    tx.error = error;
    if (this.multi) this.out.push({ type: "transaction", outcome: tx.outcome(E.someRecipientsRefused) });
  }

  /** A transaction ended and the connection is still good; `aborted`: it ended before a dot was answered. */
  private settle(tx: Transaction, error: SmtpError | null, aborted: boolean): void {
    this.record(tx, error);
    this.needRset = aborted;
    this.advance();
  }

  /**
   * The connection ended: the transaction it ended in gets the connection's error (every one of
   * them when none had started: each would have met it alone), the later ones fail temporary.
   */
  private settleRest(): void {
    const open = this.txs.filter((t) => !t.settled);
    const first = open.find((t) => t.started);
    const noneStarted = !this.txs.some((t) => t.started);
    for (const t of open) {
      this.record(t, this.outcome && (t === first || noneStarted) ? this.outcome : notSent("mail"));
    }
  }

  private onRset(r: Reply, tx: Transaction): void {
    if (replyClass(r.code) === "positive") {
      if (!this.pipelining) this.sendMail(tx, []);
      return;
    }
    // A server that will not reset cannot be trusted with the next message.
    this.refuse(r, "mail", "refused RSET");
  }

  private onMail(r: Reply, tx: Transaction): void {
    if (replyClass(r.code) === "positive") {
      if (!this.pipelining) this.sendRcpt(tx, 0);
      return;
    }
    const err = replyError(r, "mail", "refused the sender");
    if (r.code === 421 || err.code === "PROTOCOL_ERROR") return this.refuse(r, "mail", "refused the sender");
    if (!this.pipelining) return this.settle(tx, err, true);
    tx.mailError = err; // pipelined: the RCPT and DATA replies are still to come
  }

  private sendRcpt(tx: Transaction, i: number): void {
    const a = tx.spec.envelope.recipients[i];
    this.send([{ kind: "rcpt", line: cmd.rcptTo(a), address: a, tx }]);
  }

  private onRcpt(r: Reply, address: string, tx: Transaction): void {
    if (r.code === 421) return this.refuse(r, "rcpt", `closed the connection at recipient <${address}>`);
    const cls = replyClass(r.code);
    if (cls === "positive") {
      if (!tx.mailError) tx.accepted.push(address);
    } else if (cls === "transient" || cls === "permanent") tx.rejected.push({ address, code: r.code, text: r.text });
    else return this.failClose(unexpectedReply(r, "rcpt"));
    if (this.pipelining) return;
    const done = tx.accepted.length + tx.rejected.length;
    const all = tx.spec.envelope.recipients.length;
    if (done < all) return this.sendRcpt(tx, done);
    if (tx.accepted.length === 0) return this.settle(tx, this.noRecipients(tx), true);
    this.send([{ kind: "data", line: cmd.data(), tx }]);
  }

  private noRecipients(tx: Transaction): SmtpError {
    return E.allRecipientsRefused(tx.rejected);
  }

  private onData(r: Reply, tx: Transaction): void {
    if (r.code === 354) {
      if (tx.mailError || tx.accepted.length === 0) {
        // RFC 2920 §3.1: DATA accepted without a transaction; end it with an empty message.
        tx.abortError = tx.mailError ?? this.noRecipients(tx);
        return this.send([{ kind: "dot-abort", line: ".\r\n", tx }]);
      }
      if (this.parser.buffered > 0) {
        return this.failClose(E.afterData354(r));
      }
      this.waitingFor = "body";
      this.out.push(this.multi ? { type: "send-body", index: tx.index } : { type: "send-body" });
      return;
    }
    if (r.code === 421) return this.refuse(r, "data", "closed the connection at DATA");
    if (tx.mailError) return this.settle(tx, tx.mailError, true);
    if (tx.accepted.length === 0) return this.settle(tx, this.noRecipients(tx), true);
    const err = replyError(r, "data", "refused DATA");
    if (err.code === "PROTOCOL_ERROR") return this.failClose(err);
    this.settle(tx, err, true);
  }

  private onDot(r: Reply, tx: Transaction): void {
    tx.response = { code: r.code, text: r.text };
    if (replyClass(r.code) === "positive") return this.settle(tx, null, false);
    const err = replyError(r, "dot", "refused the message");
    if (r.code === 421 || err.code === "PROTOCOL_ERROR") return this.failClose(err);
    this.settle(tx, err, false); // the dot ended the transaction: no RSET needed
  }
}
