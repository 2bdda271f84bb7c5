/**
 * `node:net` + `node:tls` adapter (default under Deno; also works under Bun and Node).
 * STARTTLS and implicit TLS both use `tls.connect({ socket })` over a connected TCP socket —
 * never `new tls.TLSSocket` (no verification in Bun, nothing in Deno; see runtimes.md).
 * Verification runs with `rejectUnauthorized: false` so the peer chain stays visible for the
 * classification (expiry on Deno node:tls); `checkSession` then fails closed on `authorized`.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import type {
  Adapter,
  Capabilities,
  Conn,
  ConnectOptions,
  PeerCertificate,
  StartTlsOptions,
  TlsFacts,
  TlsOptions,
} from "./conn.ts";
import { ReadQueue } from "./queue.ts";
import {
  checkSession,
  classifyTlsError,
  closedError,
  connectError,
  errorText,
  injectionError,
  type TlsContext,
} from "./tls-errors.ts";
import { certificateCovers } from "./names.ts";
import { peerCertificateFromDer } from "./x509.ts";

const capabilities: Capabilities = {
  versionAndCipher: true,
  peerChain: "full",
  minVersion13: true,
  verifyOff: true,
  clientCertImplicit: true,
  clientCertStartTls: true,
  serverNameWithClientCert: true,
};

const RESET =
  /ECONNRESET|EPIPE|ECONNABORTED|socket hang up|Broken pipe|connection reset|BrokenPipe|ConnectionReset/i;

function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => {};
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

async function connectTcp(host: string, port: number, signal?: AbortSignal): Promise<net.Socket> {
  signal?.throwIfAborted();
  const sock = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    const off = onAbort(signal, () => {
      sock.destroy();
      reject(signal!.reason);
    });
    sock.once("connect", () => {
      off();
      resolve();
    });
    sock.once("error", (e) => {
      off();
      sock.destroy();
      reject(connectError(e, host, port));
    });
  });
  sock.setNoDelay(true);
  return sock;
}

/** Peer chain from `getPeerCertificate(true)`, leaf first, by DER. */
function peerChain(sock: tls.TLSSocket): PeerCertificate[] | null {
  let cert: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(
    true,
  ) as tls.DetailedPeerCertificate;
  if (!cert || !(cert as { raw?: unknown }).raw) return null;
  const out: PeerCertificate[] = [];
  const seen = new Set<string>();
  while (cert && cert.raw && out.length < 16) {
    const pc = peerCertificateFromDer(
      new Uint8Array(cert.raw.buffer, cert.raw.byteOffset, cert.raw.byteLength),
    );
    if (seen.has(pc.fingerprint256)) break;
    seen.add(pc.fingerprint256);
    out.push(pc);
    cert = cert.issuerCertificate;
  }
  return out;
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
      if (!ctx || RESET.test(`${errorText(e).code} ${errorText(e).message}`)) queue.end();
      else queue.fail(classifyTlsError(e, ctx));
    };
    sock.on("data", onData);
    sock.on("end", onEnd);
    sock.on("close", onClose);
    sock.on("error", onError);
    this.#detach = () => {
      sock.off("data", onData);
      sock.off("end", onEnd);
      sock.off("close", onClose);
      sock.off("error", onError);
    };
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
    if (this.#closed || this.#sock.destroyed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#sock.write(
        bytes,
        (err) => (err ? reject(Object.assign(closedError(), { cause: err })) : resolve()),
      );
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
    if (this.tls) throw new Error("startTls: the connection is already TLS");
    if (this.#closed) throw closedError();
    const pending = this.bufferedBytes;
    if (pending > 0) {
      this.close();
      throw injectionError(pending);
    }
    const name = opts.serverName ?? this.#host;
    const ctx: TlsContext = {
      host: this.#host,
      port: this.#port,
      mode,
      name,
      minVersion: opts.minVersion,
      clientCert: !!opts.clientCert,
    };
    const raw = this.#sock;
    this.#detach();
    this.#queue.clear();
    const t = tls.connect({
      socket: raw,
      servername: net.isIP(name) ? undefined : name,
      ca: opts.ca,
      cert: opts.clientCert?.cert,
      key: opts.clientCert?.key,
      minVersion: opts.minVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined, // names are decided from the DER (names.ts), never here
    });
    this.#sock = t;
    this.#queue = new ReadQueue();
    try {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const done = (f: () => void) => {
          off();
          t.off("secureConnect", ok);
          t.off("error", bad);
          t.off("close", closed);
          f();
        };
        const ok = () => done(resolve);
        const bad = (e: unknown) => done(() => reject(classifyTlsError(e, ctx)));
        const closed = () =>
          done(() =>
            reject(classifyTlsError("the server closed the connection during the TLS handshake", ctx))
          );
        const off = onAbort(signal, () => done(() => reject(signal!.reason)));
        t.once("secureConnect", ok);
        t.once("error", bad);
        t.once("close", closed);
      });
      const chain = peerChain(t);
      const leaf = chain?.[0];
      let authorized = t.authorized === true;
      let authorizationError: string | null = authorized ? null : errorText(t.authorizationError).code ||
        errorText(t.authorizationError).message || "certificate verify failed";
      if (authorized && (!leaf || !certificateCovers(name, leaf.sans))) {
        authorized = false;
        authorizationError = "ERR_TLS_CERT_ALTNAME_INVALID";
      }
      const cipher = t.getCipher() as { name?: string; standardName?: string } | null;
      const facts: TlsFacts = {
        adapter: "node-tls",
        version: t.getProtocol() || null,
        cipher: cipher?.standardName || cipher?.name || null,
        authorized,
        authorizationError,
        peerChain: chain,
        mode,
      };
      const failure = checkSession(facts, opts, { ...ctx, peerChain: chain });
      if (failure) throw failure;
      this.tls = facts;
      this.#closed = false;
      this.#queue = this.#attach(t, { ...ctx, peerChain: chain });
      return facts;
    } catch (e) {
      this.#closed = true;
      this.#queue.clear();
      t.destroy();
      raw.destroy();
      throw e;
    }
  }
}

async function connect(opts: ConnectOptions): Promise<Conn> {
  const sock = await connectTcp(opts.host, opts.port, opts.signal);
  const conn = new NodeConn(sock, opts.host, opts.port);
  if (opts.tls) await conn.upgrade(opts.tls, "implicit", opts.signal);
  return conn;
}

/** The node:tls adapter. */
export const adapter: Adapter = { name: "node-tls", capabilities, connect };
