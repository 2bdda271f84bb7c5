/**
 * A probe's view of one socket (plain `node:net` or `node:tls`): bytes go into a ReplyParser,
 * `reply()` waits for the next complete SMTP reply within a deadline. Bounded like every other
 * reader in mailplan (the parser's default limits).
 *
 * ```ts
 * const wire = new Wire(await connectTcp("127.0.0.1", 25, 5000));
 * const greeting = await wire.reply(5000);   // throws ProbeFailure TIMEOUT / CONNECTION_CLOSED / PROTOCOL_ERROR
 * await wire.send("EHLO me\r\n");
 * ```
 * @module
 */
import * as net from "node:net";
import type { ErrorCode } from "../codes.ts";
import { NetError } from "../net/errors.ts";
import { listen } from "../net/listen.ts";
import { connectTcp as netConnect } from "../net/tcp.ts";
import { type Reply, ReplyParser } from "../smtp/reply.ts";
import { SmtpError } from "../smtp/errors.ts";

/** What a probe step fails with: a contract code, or `CONNECTION_CLOSED` (reported as PROTOCOL_ERROR). */
export type ProbeFailureCode = Extract<ErrorCode, "CONNECT_FAILED" | "TIMEOUT" | "PROTOCOL_ERROR"> | "CONNECTION_CLOSED";

/** A step of the probe that failed, with a contract-style code. */
export class ProbeFailure extends Error {
  override name = "ProbeFailure";
  constructor(readonly code: ProbeFailureCode, message: string, readonly detail: string | null = null) {
    super(message);
  }
}

const addr = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

/** Opens a TCP connection within `ms` (lib/net's one TCP connect); CONNECT_FAILED / TIMEOUT as ProbeFailure. */
export async function connectTcp(host: string, port: number, ms: number): Promise<net.Socket> {
  try {
    return await netConnect(host, port, AbortSignal.timeout(ms));
  } catch (e) {
    if (e instanceof NetError) throw new ProbeFailure("CONNECT_FAILED", e.message, e.detail);
    throw new ProbeFailure("TIMEOUT", `Connecting to ${addr(host, port)} did not succeed within ${ms / 1000}s.`);
  }
}

/** Reads SMTP replies from a socket. */
export class Wire {
  readonly parser = new ReplyParser();
  #sock: net.Socket;
  #ended = false;
  #wake: (() => void) | null = null;
  #detach: () => void;
  /** Bytes received in total (to tell "nothing at all" from "something"). */
  received = 0;

  constructor(sock: net.Socket) {
    this.#sock = sock;
    const onData = (b: Uint8Array) => {
      this.received += b.length;
      this.parser.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice());
      this.#notify();
    };
    const onEnd = () => {
      this.#ended = true;
      this.#notify();
    };
    this.#detach = listen(sock, { data: onData, end: onEnd, close: onEnd, error: onEnd });
  }

  get socket(): net.Socket {
    return this.#sock;
  }

  /** Bytes received and not yet returned as a reply. */
  get buffered(): number {
    return this.parser.buffered;
  }

  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Resolves true as soon as any byte arrived, false after `ms` or at EOF without a byte. */
  async anyBytes(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.received === 0 && !this.#ended && Date.now() < deadline) {
      await this.#sleepUntil(deadline);
    }
    return this.received > 0;
  }

  #sleepUntil(deadline: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(() => {
        this.#wake = null;
        r();
      }, Math.max(1, deadline - Date.now()));
      this.#wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  /** The next complete reply within `ms`. */
  async reply(ms: number, what = "a reply"): Promise<Reply> {
    const deadline = Date.now() + ms;
    while (true) {
      let r: Reply | null;
      try {
        r = this.parser.next("ehlo");
      } catch (e) {
        throw new ProbeFailure("PROTOCOL_ERROR", e instanceof SmtpError ? e.message : String(e));
      }
      if (r) return r;
      if (this.#ended) {
        throw new ProbeFailure("CONNECTION_CLOSED", `The server closed the connection while mailplan waited for ${what}.`);
      }
      if (Date.now() >= deadline) {
        throw new ProbeFailure("TIMEOUT", `The server sent no ${what} within ${ms / 1000}s.`);
      }
      await this.#sleepUntil(deadline);
    }
  }

  /** Writes text (ASCII commands) and waits until it is handed to the socket. */
  send(text: string): Promise<void> {
    if (this.#sock.destroyed) return Promise.reject(new ProbeFailure("CONNECTION_CLOSED", "The connection is closed."));
    return new Promise((resolve, reject) =>
      this.#sock.write(text, (e) => (e ? reject(new ProbeFailure("CONNECTION_CLOSED", "The connection is closed.")) : resolve()))
    );
  }

  /** Stops listening (before a TLS upgrade takes the socket over). */
  release(): net.Socket {
    this.#detach();
    return this.#sock;
  }

  /** Sends QUIT and waits briefly for the 221 (politeness; failures ignored), then closes. */
  async quit(ms = 1000): Promise<void> {
    try {
      await this.send("QUIT\r\n");
      await this.reply(ms, "a reply to QUIT");
    } catch { /* the server may just close */ }
    this.close();
  }

  close(): void {
    this.#detach();
    this.#sock.destroy();
  }
}
