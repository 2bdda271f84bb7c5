/**
 * `node:net` + `node:tls` adapter (default under Deno; also works under Bun and Node).
 * STARTTLS and implicit TLS both use `tls.connect({ socket })` over a connected TCP socket —
 * never `new tls.TLSSocket` (no verification in Bun, nothing in Deno; see runtimes.md).
 * Verification runs with `rejectUnauthorized: false` and no `checkServerIdentity`, so the peer
 * chain stays visible (expiry on Deno node:tls) and `authorized` is the chain verdict alone; the
 * shared upgrade (upgrade.ts) decides trust, names from the DER, version and pins.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type { Adapter, Capabilities, Conn, ConnectOptions, StartTlsOptions, TlsFacts, TlsOptions } from "./conn.ts";
import { peerDer } from "./peer-chain.ts";
import { connectTcp } from "./tcp.ts";
import { ReadQueue } from "./queue.ts";
import { classifyReadError, type TlsContext } from "./classify.ts";
import { closedReason, errorText } from "./errors.ts";
import { listen } from "./listen.ts";
import { upgradeTls, type UpgradeSide } from "./upgrade.ts";
import { type RawHandshake, trustAnchors } from "./verify.ts";

const capabilities: Capabilities = {
  versionAndCipher: true,
  peerChain: "full",
  minVersion13: true,
  verifyOff: true,
  clientCertImplicit: true,
  clientCertStartTls: true,
  serverNameWithClientCert: true,
};

function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

class NodeConn implements Conn {
  readonly adapter = "node-tls" as const;
  tls: TlsFacts | null = null;
  #sock: net.Socket;
  #queue: ReadQueue;
  #closed = false;
  #detach: () => void = () => {};
  readonly #host: string;
  readonly #port: number;

  constructor(sock: net.Socket, host: string, port: number) {
    this.#sock = sock;
    this.#host = host;
    this.#port = port;
    this.#queue = this.#attach(sock, null);
  }

  #attach(sock: net.Socket, ctx: TlsContext | null): ReadQueue {
    const queue = new ReadQueue((pause) => (pause ? sock.pause() : sock.resume()));
    const onData = (b: Uint8Array) => queue.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    const onEnd = () => queue.end();
    const onClose = () => {
      this.#closed = true;
      queue.end();
    };
    const onError = (e: unknown) => {
      const failure = ctx ? classifyReadError(e, ctx) : null;
      if (failure) queue.fail(failure);
      else queue.end();
    };
    this.#detach = listen(sock, { data: onData, end: onEnd, close: onClose, error: onError });
    return queue;
  }

  get bufferedBytes(): number {
    return this.#queue.size + (this.#sock.readableLength ?? 0);
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

  write(bytes: Uint8Array): Promise<void> {
    if (this.#closed || this.#sock.destroyed) return Promise.reject(closedReason(this.#queue.pendingError));
    return new Promise((resolve, reject) => {
      this.#sock.write(bytes, (err) => (err ? reject(closedReason(this.#queue.pendingError, err)) : resolve()));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.clear();
    this.#sock.destroy();
  }

  startTls(options: StartTlsOptions): Promise<TlsFacts> {
    return this.upgrade(options, "starttls", options.signal);
  }

  async upgrade(opts: TlsOptions, mode: "implicit" | "starttls", signal?: AbortSignal): Promise<TlsFacts> {
    const raw = this.#sock;
    let t: tls.TLSSocket | null = null;
    const side: UpgradeSide = {
      adapter: "node-tls",
      host: this.#host,
      port: this.#port,
      isTls: this.tls !== null,
      closed: this.#closed,
      bufferedBytes: this.bufferedBytes,
      handshake: async (o, ctx, sig) => {
        this.#detach();
        this.#queue.clear();
        t = this.#sock = tls.connect({
          socket: raw,
          servername: net.isIP(ctx.name) ? undefined : ctx.name,
          ca: trustAnchors(o.ca),
          cert: o.clientCert?.cert,
          key: o.clientCert?.key,
          minVersion: o.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
          rejectUnauthorized: false,
          checkServerIdentity: () => undefined, // names are decided from the DER (verify.ts), never here
        });
        this.#queue = new ReadQueue();
        await handshakeDone(t, sig);
        return rawFacts(t, mode);
      },
      abort: () => {
        this.#closed = true;
        this.#queue.clear();
        t?.destroy();
        raw.destroy();
      },
    };
    const { facts, ctx } = await upgradeTls(side, opts, mode, signal);
    this.tls = facts;
    this.#closed = false;
    this.#queue = this.#attach(this.#sock, ctx);
    return facts;
  }
}

/** Resolves on `secureConnect`; rejects with the runtime's error, a close, or the signal's reason. */
function handshakeDone(t: tls.TLSSocket, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (f: () => void) => {
      off();
      t.off("secureConnect", ok);
      t.off("error", bad);
      t.off("close", closed);
      f();
    };
    const ok = () => done(resolve);
    const bad = (e: unknown) => done(() => reject(e));
    const closed = () => done(() => reject("the server closed the connection during the TLS handshake"));
    const off = onAbort(signal, () => done(() => reject(signal!.reason)));
    t.once("secureConnect", ok);
    t.once("error", bad);
    t.once("close", closed);
  });
}

/** What node:tls saw, undecided: `authorized` is the chain verdict only (no identity check ran). */
function rawFacts(t: tls.TLSSocket, mode: "implicit" | "starttls"): RawHandshake {
  const cipher = t.getCipher() as { name?: string; standardName?: string } | null;
  const err = t.authorized === true ? null : errorText(t.authorizationError);
  return {
    adapter: "node-tls",
    mode,
    version: t.getProtocol() || null,
    cipher: cipher?.standardName || cipher?.name || null,
    chainTrusted: t.authorized === true,
    chainError: err ? err.code || err.message || null : null,
    peerDer: peerDer(t),
    namesCheckedByRuntime: false,
  };
}

async function connect(opts: ConnectOptions): Promise<Conn> {
  const sock = await connectTcp(opts.host, opts.port, opts.signal);
  const conn = new NodeConn(sock, opts.host, opts.port);
  if (opts.tls) await conn.upgrade(opts.tls, "implicit", opts.signal);
  return conn;
}

/** The node:tls adapter. */
export const adapter: Adapter = { name: "node-tls", capabilities, connect };
