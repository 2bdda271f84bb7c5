/**
 * Bun native adapter: `Bun.connect` for TCP, `socket.upgradeTLS` for STARTTLS and for implicit
 * TLS (a TCP connect followed at once by the upgrade: one code path, same checks).
 * Measured pitfalls it handles (runtimes.md): `minVersion` must be a NUMBER; a `handshake`
 * handler is required to see why verification failed; after `upgradeTLS` the old handlers keep
 * receiving ciphertext, so each handler set carries a generation and stale ones are ignored;
 * `checkServerIdentity` is ignored by Bun. This file only connects, upgrades and reports raw
 * facts; the shared upgrade (upgrade.ts) decides trust, names (from the leaf's DER), version
 * and pins. Bun exposes the leaf certificate only: `peerChain` has one element.
 */
import { isIP } from "node:net";
import type { Adapter, Capabilities, Conn, ConnectOptions, StartTlsOptions, TlsFacts, TlsOptions } from "./conn.ts";
import { ReadQueue } from "./queue.ts";
import { classifyReadError, connectError, type TlsContext } from "./classify.ts";
import { closedReason, errorText } from "./errors.ts";
import { upgradeTls, type UpgradeSide } from "./upgrade.ts";
import { type RawHandshake, trustAnchors } from "./verify.ts";

/** The narrow part of Bun's socket API used here (Bun's own types are not loaded under Deno). */
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay?: boolean): boolean;
  upgradeTLS(o: { tls: Record<string, unknown>; socket: Handlers }): [BunSocket, BunSocket];
  readonly authorized: boolean;
  getAuthorizationError(): Error | null;
  getTLSVersion(): string | null;
  getCipher(): { name?: string; standardName?: string } | null;
  getPeerX509Certificate(): { raw: Uint8Array } | undefined;
  readonly readyState: number;
}
interface Handlers {
  binaryType?: "uint8array";
  open?(s: BunSocket): void;
  data?(s: BunSocket, d: Uint8Array): void;
  drain?(s: BunSocket): void;
  end?(s: BunSocket): void;
  close?(s: BunSocket, e?: Error): void;
  error?(s: BunSocket, e: Error): void;
  connectError?(s: BunSocket, e: Error): void;
  handshake?(s: BunSocket, success: boolean, authorizationError: Error | null): void;
}
interface BunApi {
  connect(o: { hostname: string; port: number; socket: Handlers }): Promise<BunSocket>;
}
const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

const capabilities: Capabilities = {
  versionAndCipher: true,
  peerChain: "leaf",
  minVersion13: true,
  verifyOff: true,
  clientCertImplicit: true,
  clientCertStartTls: true,
  serverNameWithClientCert: true,
};

class BunConn implements Conn {
  readonly adapter = "bun" as const;
  tls: TlsFacts | null = null;
  #sock!: BunSocket;
  #queue = new ReadQueue((pause) => (pause ? this.#sock?.pause() : this.#sock?.resume()));
  #gen = 0;
  #closed = false;
  #drain: (() => void)[] = [];
  /** Handshake waiter of the current upgrade. */
  #hs: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  #ctx: TlsContext | null = null;
  readonly #host: string;
  readonly #port: number;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Handlers bound to one generation: events of an older generation are ignored. */
  handlers(): Handlers {
    const gen = ++this.#gen;
    const live = () => gen === this.#gen;
    return {
      binaryType: "uint8array",
      data: (_s, d) => {
        if (live()) this.#queue.push(new Uint8Array(d));
      },
      drain: () => {
        if (live()) this.#wake();
      },
      end: () => {
        if (live()) this.#queue.end();
      },
      close: (_s, e) => {
        if (!live()) return;
        this.#closed = true;
        this.#wake();
        if (this.#hs) {
          const hs = this.#hs;
          this.#hs = null;
          hs.reject(e ?? "the server closed the connection during the TLS handshake");
        }
        this.#queue.end();
      },
      error: (_s, e) => {
        if (!live()) return;
        if (this.#hs) {
          const hs = this.#hs;
          this.#hs = null;
          hs.reject(e);
        } else {
          const failure = this.#ctx ? classifyReadError(e, this.#ctx) : null;
          if (failure) this.#queue.fail(failure);
          else this.#queue.end();
        }
      },
      handshake: (_s, success, err) => {
        if (!live() || !this.#hs) return;
        const hs = this.#hs;
        this.#hs = null;
        // With rejectUnauthorized:false, `success` is false only for a failed handshake
        // (protocol, alert); certificate problems are judged from authorized/getAuthorizationError.
        if (!success && err) hs.reject(err);
        else hs.resolve();
      },
    };
  }

  #wake(): void {
    const w = this.#drain;
    this.#drain = [];
    for (const f of w) f();
  }

  attach(sock: BunSocket): void {
    this.#sock = sock;
  }

  get bufferedBytes(): number {
    return this.#queue.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  read(): Promise<Uint8Array | null> {
    return this.#queue.read();
  }

  unread(bytes: Uint8Array): void {
    this.#queue.unshift(bytes);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0) {
      if (this.#closed) throw closedReason(this.#queue.pendingError);
      const n = this.#sock.write(rest);
      if (n < 0) throw closedReason(this.#queue.pendingError);
      rest = rest.subarray(n);
      if (rest.length > 0) await new Promise<void>((r) => this.#drain.push(r));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    this.#wake();
    this.#gen++; // silence every handler
    try {
      this.#sock.end();
    } catch { /* already closed */ }
  }

  #abort(): void {
    this.#closed = true;
    this.#queue.clear();
    this.#gen++;
    try {
      this.#sock.terminate();
    } catch { /* already closed */ }
  }

  startTls(options: StartTlsOptions): Promise<TlsFacts> {
    return this.upgrade(options, "starttls", options.signal);
  }

  async upgrade(opts: TlsOptions, mode: "implicit" | "starttls", signal?: AbortSignal): Promise<TlsFacts> {
    const side: UpgradeSide = {
      adapter: "bun",
      host: this.#host,
      port: this.#port,
      isTls: this.tls !== null,
      closed: this.#closed,
      bufferedBytes: this.bufferedBytes,
      handshake: (o, ctx, sig) => this.#handshake(o, ctx, mode, sig),
      abort: () => {
        this.#hs = null;
        this.#abort();
      },
    };
    const { facts, ctx } = await upgradeTls(side, opts, mode, signal);
    this.#ctx = ctx;
    this.tls = facts;
    return facts;
  }

  /** The runtime handshake: `upgradeTLS`, then the raw facts (leaf DER only: Bun shows no more). */
  async #handshake(
    opts: TlsOptions,
    ctx: TlsContext,
    mode: "implicit" | "starttls",
    signal?: AbortSignal,
  ): Promise<RawHandshake> {
    const tlsOptions: Record<string, unknown> = {
      rejectUnauthorized: false,
      minVersion: opts.minVersion === "1.3" ? 0x0304 : 0x0303,
    };
    if (!isIP(ctx.name)) tlsOptions.serverName = ctx.name;
    const ca = trustAnchors(opts.ca);
    if (ca !== undefined) tlsOptions.ca = ca;
    if (opts.clientCert) {
      tlsOptions.cert = opts.clientCert.cert;
      tlsOptions.key = opts.clientCert.key;
    }
    this.#queue.clear();
    this.#queue = new ReadQueue((pause) => (pause ? this.#sock?.pause() : this.#sock?.resume()));
    let off = () => {};
    try {
      const handshake = new Promise<void>((resolve, reject) => {
        this.#hs = { resolve, reject };
        if (signal) {
          const onAbort = () => reject(signal.reason);
          signal.addEventListener("abort", onAbort, { once: true });
          off = () => signal.removeEventListener("abort", onAbort);
        }
      });
      const [, t] = this.#sock.upgradeTLS({ tls: tlsOptions, socket: this.handlers() });
      this.#sock = t;
      await handshake;
      const x = t.getPeerX509Certificate();
      const authErr = t.getAuthorizationError();
      const cipher = t.getCipher();
      return {
        adapter: "bun",
        mode,
        version: t.getTLSVersion() || null,
        cipher: cipher?.standardName || cipher?.name || null,
        chainTrusted: t.authorized === true,
        chainError: t.authorized === true ? null : (authErr ? errorText(authErr).code || errorText(authErr).message : null),
        peerDer: x?.raw ? [new Uint8Array(x.raw)] : null,
        namesCheckedByRuntime: false,
      };
    } finally {
      off();
    }
  }
}

async function connect(opts: ConnectOptions): Promise<Conn> {
  opts.signal?.throwIfAborted();
  const conn = new BunConn(opts.host, opts.port);
  const pending = Bun.connect({
    hostname: opts.host,
    port: opts.port,
    socket: { ...conn.handlers(), connectError: () => {} },
  });
  const sock = await new Promise<BunSocket>((resolve, reject) => {
    const signal = opts.signal;
    const onAbort = () => {
      reject(signal!.reason);
      pending.then((s) => s.terminate(), () => {});
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (s) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(s);
      },
      (e) => {
        signal?.removeEventListener("abort", onAbort);
        reject(connectError(e, opts.host, opts.port));
      },
    );
  });
  conn.attach(sock);
  sock.setNoDelay(true);
  if (opts.tls) await conn.upgrade(opts.tls, "implicit", opts.signal);
  return conn;
}

/** The Bun native adapter. */
export const adapter: Adapter = { name: "bun", capabilities, connect };
