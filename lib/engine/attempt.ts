/**
 * One connection attempt to one relay: connect (plain or implicit TLS), then drive the sans-IO
 * session — write what it says, read with the deadline of the phase it is in, upgrade when it
 * asks, stream the body — until it is done or fails. The session decides; this file only moves bytes.
 */
import type { AdapterName, Conn } from "../net/conn.ts";
import { connect } from "../net/detect.ts";
import { defaultHelo } from "../net/helo.ts";
import { answersTls } from "../net/answers-tls.ts";
import { NetError } from "../net/errors.ts";
import type { TlsFacts as NetTlsFacts } from "../net/conn.ts";
import { BodyEncoder } from "../smtp/body.ts";
import { type Phase, SmtpError } from "../smtp/errors.ts";
import { SmtpSession } from "../smtp/session.ts";
import type { Action, SessionAuth, SessionResult, TransactionOutcome, TransactionSpec } from "../smtp/types.ts";
import { resolveSecret, type SecretEnv } from "../config/secret.ts";
import type { RelayPlan } from "../plan/types.ts";
import { toDeliveryError } from "./errors.ts";
import { redactSecret } from "./redact.ts";
import { tlsOptions } from "./tls-options.ts";
import type { Transcript } from "./transcript.ts";
import type { DeliveryError, MessageSource, TlsSummary } from "./types.ts";

/** What one attempt needs besides the relay. */
export interface AttemptOptions {
  /** Absent (with `message`): a login check — TLS, EHLO and AUTH exactly as a send, then QUIT
   * (the session's probe mode: no MAIL, no message byte). */
  envelope?: { from: string; recipients: string[] };
  message?: MessageSource;
  baseDir: string;
  /** Where `{ env: NAME }` secrets are read (default process.env). */
  env?: SecretEnv;
  adapter?: AdapterName;
  transcript?: Transcript;
  /** How long a STARTTLS/plain relay may stay silent before its port is tested for implicit TLS
   * on a second connection (threats.md M2). Default {@link GREETING_SILENCE_MS}. */
  greetingSilenceMs?: number;
  /** See DeliverOptions.beforeDot (`index`: which message of `batch`). */
  beforeDot?: (info: { relay: string; recipients: string[]; index?: number }) => Promise<void>;
  /**
   * Several messages on this one connection (deliver-many.ts): the session gets `transactions`
   * instead of `envelope`/`message`, streams `messages[i]` for the i-th, and reports each outcome
   * to `onTransaction`; the dot of one and the commands of the next go in one write.
   */
  batch?: { transactions: TransactionSpec[]; messages: MessageSource[]; onTransaction: (o: TransactionOutcome) => void };
  /** See DeliverOptions.background ("cold sends": answer at the final reply, QUIT in the background). */
  background?: (closing: Promise<void>) => void;
}

/** Default wait for a greeting before asking the port, on a second connection, whether it speaks TLS. */
export const GREETING_SILENCE_MS = 2000;

/** How one attempt ended. */
export interface AttemptResult {
  session: SessionResult | null;
  tls: TlsSummary | null;
  error: DeliveryError | null;
}

const TIMED_OUT = Symbol("timeout");

/** Resolves like `promise`, or with TIMED_OUT after `ms` (the promise is left to settle on its own). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof TIMED_OUT>((r) => (timer = setTimeout(() => r(TIMED_OUT), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An AbortSignal.timeout firing inside connect or the handshake is the phase's TIMEOUT (C8). */
async function timed<T>(p: Promise<T>, phase: "connect" | "tls", relay: RelayPlan): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if ((e as { name?: string })?.name !== "TimeoutError") throw e;
    const ms = phase === "tls" ? relay.timeouts.tls_ms : relay.timeouts.connect_ms;
    throw new SmtpError({
      code: "TIMEOUT",
      phase,
      temporary: true,
      message: phase === "tls"
        ? `The TLS handshake with ${relay.host}:${relay.port} did not finish within ${ms / 1000}s.`
        : `Connecting to ${relay.host}:${relay.port} did not succeed within ${ms / 1000}s.`,
      hint: phase === "tls"
        ? "the server accepted STARTTLS (or the connection) but never completed the handshake; raise timeouts.tls only if the link is slow"
        : "check the host and port and that a firewall lets the connection through",
    });
  }
}

/** The error when a STARTTLS/plain relay's port speaks TLS first: a config mistake, final (M2). */
function implicitPortError(relay: RelayPlan, how: string): SmtpError {
  return new SmtpError({
    code: "TLS_MODE_MISMATCH",
    phase: "greeting",
    temporary: false,
    message: `${relay.host}:${relay.port} ${how}: this port expects implicit TLS, not ${relay.strategy === "plain" ? "plaintext SMTP" : "STARTTLS"}.`,
    hint: "use strategy: implicit for this port (or port 587 with strategy: starttls)",
  });
}

/**
 * Resolves once a greeting has stayed away for `afterMs` AND a second connection to the same
 * port answered a TLS ClientHello; never resolves otherwise (aborted, plaintext, or silence).
 */
function implicitPortCheck(relay: RelayPlan, afterMs: number, signal: AbortSignal, t: Transcript | undefined): Promise<true> {
  return new Promise((resolve) => {
    const timer = setTimeout(async () => {
      t?.note(`no greeting after ${afterMs / 1000}s: asking ${relay.host}:${relay.port} on a second connection whether it expects TLS`);
      const answer = await answersTls(relay.host, relay.port, { timeoutMs: relay.timeouts.connect_ms + relay.timeouts.tls_ms, serverName: relay.security.server_name ?? relay.host, signal });
      if (signal.aborted) return;
      t?.note(`the second connection got ${answer === "tls" ? "a TLS answer" : answer === "plaintext" ? "a plaintext answer" : "no answer"}`);
      if (answer === "tls") resolve(true);
    }, afterMs);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });
}

/** A write the server does not take within the deadline (it stopped reading) is a TIMEOUT of the phase it was written in. */
async function write(conn: Conn, bytes: Uint8Array, ms: number, phase: Phase): Promise<void> {
  if ((await within(conn.write(bytes), ms)) === TIMED_OUT) {
    conn.close();
    const knob = phase === "data" ? "timeouts.data" : "timeouts.command";
    throw new SmtpError({ code: "TIMEOUT", phase, temporary: true, message: `The server did not take our data within ${ms / 1000}s.`, hint: `the server or the network stalled; raise ${knob} for slow links` });
  }
}

function summarise(f: NetTlsFacts): TlsSummary {
  const leaf = f.peerChain?.[0];
  return {
    version: f.version,
    cipher: f.cipher,
    adapter: f.adapter,
    peer: leaf ? { subject: leaf.subject, issuer: leaf.issuer, validTo: leaf.validTo, fingerprint256: leaf.fingerprint256, spkiPin: leaf.spkiPin } : null,
  };
}

/** Runs one attempt against one relay. Never throws: every failure comes back as `error`. */
export async function runAttempt(relay: RelayPlan, opts: AttemptOptions): Promise<AttemptResult> {
  let secret: string | undefined;
  const r = await attempt(relay, opts, (s) => {
    secret = s;
    opts.transcript?.secrets.add(s);
  });
  return secret ? scrub(r, secret) : r;
}

/** The attempt's result with the secret hidden from every text a server could have filled. */
function scrub(r: AttemptResult, secret: string): AttemptResult {
  const hide = (t: string) => redactSecret(t, secret);
  const error = r.error && { ...r.error, message: hide(r.error.message), hint: hide(r.error.hint), ...(r.error.reply ? { reply: { ...r.error.reply, text: hide(r.error.reply.text) } } : {}) };
  const session = r.session && {
    ...r.session,
    rejected: r.session.rejected.map((x) => ({ ...x, text: hide(x.text) })),
    response: r.session.response && { ...r.session.response, text: hide(r.session.response.text) },
  };
  return { ...r, error, session };
}

async function attempt(relay: RelayPlan, opts: AttemptOptions, onSecret: (s: string) => void): Promise<AttemptResult> {
  const t = opts.transcript;
  let session: SmtpSession;
  let tls: TlsSummary | null = null;
  try {
    const auth: SessionAuth | undefined = relay.auth
      ? { mechanism: relay.auth.mechanism, user: relay.auth.user, password: resolveSecret(relay.auth.password, opts.baseDir, opts.env) }
      : undefined;
    if (auth) onSecret(auth.password);
    session = new SmtpSession({
      strategy: relay.strategy,
      tls: relay.security.tls,
      allowPlaintextAuth: relay.security.plaintext_auth, // decided once, by the compiler
      helo: relay.helo ?? defaultHelo(),
      auth,
      ...(opts.batch ? { transactions: opts.batch.transactions } : {
        envelope: opts.envelope,
        messageSize: opts.message?.size,
        needs8bit: opts.message?.has8bit,
        needsSmtpUtf8: opts.message?.needsSmtpUtf8,
      }),
      limits: {
        maxLineBytes: relay.limits.max_line,
        maxReplyBytes: relay.limits.max_reply,
        maxReplyLines: relay.limits.max_reply_lines,
        maxAuthRounds: relay.limits.max_auth_rounds,
      },
    });
  } catch (e) {
    return { session: null, tls: null, error: toDeliveryError(e, "connect") };
  }
  const implicit = relay.strategy === "implicit";
  let conn: Conn;
  try {
    const tlsOpts = relay.strategy === "plain" || relay.security.tls === "none" ? undefined : tlsOptions(relay, opts.baseDir);
    t?.note(`connecting to ${relay.host}:${relay.port} (${relay.strategy}${implicit ? ", TLS from the first byte" : ""})`);
    conn = await timed(connect({
      host: relay.host,
      port: relay.port,
      ...(implicit ? { tls: tlsOpts } : {}),
      signal: AbortSignal.timeout(relay.timeouts.connect_ms + (implicit ? relay.timeouts.tls_ms : 0)),
      adapter: opts.adapter,
    }), implicit ? "tls" : "connect", relay);
    const onTls = (facts: NetTlsFacts): TlsSummary => {
      tls = summarise(facts);
      t?.note(`TLS ${facts.version ?? "(version unknown)"} ${facts.cipher ?? ""} with ${tls.peer?.subject ?? "(certificate not visible)"}`.trim());
      return tls;
    };
    if (!opts.background) {
      const result = await drive(session, conn, relay, opts, tlsOpts, onTls);
      return { ...result, tls };
    }
    // Cold send: the result at the decision (QUIT written), the rest of the connection handed to `background`.
    let early = false;
    let decided!: (r: Omit<AttemptResult, "tls">) => void;
    const atDecision = new Promise<Omit<AttemptResult, "tls">>((r) => (decided = r));
    const full = drive(session, conn, relay, opts, tlsOpts, onTls, (r) => {
      early = true;
      decided(r);
    });
    const result = await Promise.race([full, atDecision]);
    if (early) opts.background(full.then(() => {}, () => {}));
    return { ...result, tls };
  } catch (e) {
    const error = toDeliveryError(e, session.phase);
    t?.note(`failed: ${error.code}: ${error.message}`);
    return { session: session.result(), tls, error };
  }
}

async function drive(
  session: SmtpSession,
  conn: Conn,
  relay: RelayPlan,
  opts: AttemptOptions,
  startTlsOptions: ReturnType<typeof tlsOptions> | undefined,
  onTls: (facts: NetTlsFacts) => TlsSummary,
  onDecided?: (r: Omit<AttemptResult, "tls">) => void,
): Promise<Omit<AttemptResult, "tls">> {
  const t = opts.transcript;
  let secure = conn.tls !== null; // implicit TLS: verified before connect() resolved
  let receivedAny = false;
  let pendingRead: Promise<Uint8Array | null> | null = null;
  let deadline: number | null = null;
  let deadlinePhase = "";
  const queue: Action[] = conn.tls ? session.tlsEstablished({ ...onTls(conn.tls) }) : [];
  // A STARTTLS/plain relay whose greeting stays away may be an implicit-TLS port (M2): ask it once.
  const stopCheck = new AbortController();
  const implicitPort: Promise<true> | null = secure || relay.strategy === "implicit"
    ? null
    : implicitPortCheck(relay, opts.greetingSilenceMs ?? GREETING_SILENCE_MS, stopCheck.signal, t);
  try {
    while (true) {
      const action = queue.shift();
      if (action) {
        switch (action.type) {
          case "send":
            t?.sent(action.redacted ?? action.bytes, secure);
            try {
              await write(conn, action.bytes, relay.timeouts.command_ms, session.phase);
            } catch (e) {
              // A TLS alert the server closed with (e.g. "certificate required") is the answer, not a close.
              if (e instanceof SmtpError || (e instanceof NetError && e.code !== "CONNECTION_CLOSED")) throw e;
              queue.push(...session.closed());
            }
            break;
          case "starttls": {
            if (!startTlsOptions) throw new SmtpError({ code: "PROTOCOL_ERROR", phase: "starttls", message: "The session asked for TLS on a relay configured without it." });
            const facts = await timed(conn.startTls({ ...startTlsOptions, signal: AbortSignal.timeout(relay.timeouts.tls_ms) }), "tls", relay);
            secure = true;
            queue.push(...session.tlsEstablished({ ...onTls(facts) }));
            break;
          }
          case "send-body": {
            const encoder = new BodyEncoder();
            let bytes = 0;
            const deadline = Date.now() + relay.timeouts.data_ms;
            const left = () => Math.max(1, deadline - Date.now());
            if (opts.batch) {
              queue.push(...await sendBatchBody(session, conn, opts.batch.messages[action.index ?? 0], left, async (accepted) => {
                await opts.beforeDot?.({ relay: relay.relay, recipients: accepted, index: action.index });
              }, (a) => t?.sent(a.redacted ?? a.bytes, secure), t));
              break;
            }
            if (!opts.message) throw new SmtpError({ code: "PROTOCOL_ERROR", phase: "data", message: "The session asked for a message body on a login check." });
            for await (const chunk of opts.message.open()) {
              const out = encoder.encode(chunk);
              bytes += out.length;
              await write(conn, out, left(), "data");
            }
            const end = encoder.finish();
            await opts.beforeDot?.({ relay: relay.relay, recipients: session.result().accepted });
            await write(conn, end, left(), "data");
            t?.note(`message body sent (${bytes + end.length} bytes, dot-stuffed)`);
            queue.push(...session.bodySent());
            break;
          }
          case "close":
            conn.close();
            break;
          case "transaction":
            opts.batch?.onTransaction(action.outcome);
            break;
          case "done":
            return { session: action.result, error: null };
          case "fail": {
            const error = toDeliveryError(action.error, action.error.phase);
            if (error.phase === "greeting" && error.code === "TIMEOUT" && !receivedAny && relay.strategy !== "implicit") {
              error.message += ` Nothing at all arrived: a port that expects implicit TLS waits silently like this.`;
            }
            t?.note(`failed: ${error.code}: ${error.message}`);
            return { session: action.result, error };
          }
        }
        continue;
      }
      const decided = onDecided && session.decided;
      if (decided) {
        onDecided!({ session: session.result(), error: decided.error && toDeliveryError(decided.error, decided.error.phase) });
        onDecided = undefined;
      }
      // Nothing to do: wait for the server. The deadline runs per reply, not per read, so a server
      // that trickles bytes (slowloris) cannot stretch it; it restarts only when the session moves on.
      if (deadline === null || session.phase !== deadlinePhase) {
        const ms = session.phase === "greeting" ? relay.timeouts.greeting_ms
          : session.phase === "dot" ? relay.timeouts.dot_ms
          : relay.timeouts.command_ms;
        deadline = Date.now() + ms;
        deadlinePhase = session.phase;
      }
      pendingRead ??= conn.read();
      const got = await within(implicitPort && !receivedAny ? Promise.race([pendingRead, implicitPort]) : pendingRead, Math.max(1, deadline - Date.now()));
      if (got === true) throw implicitPortError(relay, `sent no greeting, and answered a TLS ClientHello on a second connection`);
      if (got === TIMED_OUT) {
        queue.push(...session.timeout());
        continue;
      }
      pendingRead = null;
      if (got === null) {
        queue.push(...session.closed());
        continue;
      }
      if (!receivedAny && !secure && relay.strategy !== "implicit" && (got[0] === 0x15 || got[0] === 0x16)) {
        throw implicitPortError(relay, "answered with TLS bytes instead of an SMTP greeting");
      }
      if (!receivedAny) stopCheck.abort(); // a greeting began: no second connection
      receivedAny = true;
      t?.received(got, secure);
      const next = session.receive(got);
      if (next.length) deadline = null; // a reply completed and the session acted: a new wait begins
      queue.push(...next);
    }
  } finally {
    stopCheck.abort();
    conn.close();
  }
}

/**
 * A batch message's body: bodySent() is called before the terminator is written, so the next
 * message's MAIL/RCPT/DATA (RFC 2920) go out in the same write as the dot. A write that fails or
 * stalls is told to the session (closed/timeout), which decides: before the dot the message was
 * not sent, after it the delivery is unknown. Returns the actions left to run.
 */
async function sendBatchBody(
  session: SmtpSession,
  conn: Conn,
  message: MessageSource,
  left: () => number,
  beforeDot: (accepted: string[]) => Promise<void>,
  sent: (a: Extract<Action, { type: "send" }>) => void,
  t: Transcript | undefined,
): Promise<Action[]> {
  const encoder = new BodyEncoder();
  let bytes = 0;
  let next: Action[] = [];
  try {
    for await (const chunk of message.open()) {
      const out = encoder.encode(chunk);
      bytes += out.length;
      await write(conn, out, left(), "data");
    }
    const end = encoder.finish();
    await beforeDot(session.result().accepted);
    next = session.bodySent();
    const i = next.findIndex((a) => a.type === "send");
    let out = end;
    if (i >= 0) {
      const cmd = next.splice(i, 1)[0] as Extract<Action, { type: "send" }>;
      out = new Uint8Array(end.length + cmd.bytes.length);
      out.set(end);
      out.set(cmd.bytes, end.length);
      t?.note(`message body sent (${bytes + end.length} bytes, dot-stuffed), the next message's commands with its dot`);
      sent(cmd);
    } else {
      t?.note(`message body sent (${bytes + end.length} bytes, dot-stuffed)`);
    }
    await write(conn, out, left(), "data");
    return next;
  } catch (e) {
    if (e instanceof SmtpError && e.code === "TIMEOUT") return [...next, ...session.timeout()];
    if (e instanceof NetError) return [...next, ...session.closed()];
    throw e;
  }
}
