/**
 * Deno native adapter: `Deno.connect` (+ `setNoDelay(true)`), `Deno.startTls` for STARTTLS and
 * for implicit TLS, `Deno.connectTls` only for implicit TLS with a client certificate (the one
 * place Deno accepts one). rustls verifies chain and name itself; nothing else is visible:
 * version, cipher and peer certificate are reported as null. Options it cannot honour
 * (`pins`, `minVersion: "1.3"`, `verify: false`, a client certificate after STARTTLS) are refused
 * before any handshake with a NetError naming the node-tls adapter. Selectable by name only.
 * The skeleton (refusals, injection check, classification) is the shared upgrade (upgrade.ts);
 * `caCerts` adds to Deno's roots, which is the `security.ca` rule on every adapter.
 */
import type { Adapter, Capabilities, Conn, ConnectOptions, StartTlsOptions, TlsFacts, TlsOptions } from "./conn.ts";
import { classifyReadError, connectError, type TlsContext } from "./classify.ts";
import { closedError, errorText, type NetError, unsupported } from "./errors.ts";
import { upgradeTls, type UpgradeSide } from "./upgrade.ts";
import type { RawHandshake } from "./verify.ts";

/** The narrow part of Deno's API used here, typed locally so the file type-checks anywhere. */
interface DConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
  handshake?(): Promise<unknown>;
}
interface DenoApi {
  connect(o: { hostname: string; port: number }): Promise<DConn>;
  connectTls(
    o: { hostname: string; port: number; caCerts?: string[]; cert?: string; key?: string },
  ): Promise<DConn>;
  startTls(c: DConn, o: { hostname: string; caCerts?: string[] }): Promise<DConn>;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const capabilities: Capabilities = {
  versionAndCipher: false,
  peerChain: "none",
  minVersion13: false,
  verifyOff: false,
  clientCertImplicit: true,
  clientCertStartTls: false,
  serverNameWithClientCert: false,
};

const USE_NODE = "use the node-tls adapter (the default under Deno)";

/** Refuses what the adapter cannot do, before any byte of TLS. */
function refuse(opts: TlsOptions, mode: "implicit" | "starttls", host: string): NetError | null {
  if (opts.verify === false) return unsupported("deno", "turn verification off (verify: false)", USE_NODE);
  if (opts.minVersion === "1.3") {
    return unsupported(
      "deno",
      'enforce min_tls "1.3": the negotiated version is not exposed',
      `${USE_NODE}, or set security.min_tls: "1.2"`,
    );
  }
  if (opts.pins?.length) {
    return unsupported(
      "deno",
      "check security.pin: it does not expose the peer certificate",
      `${USE_NODE}, or remove security.pin`,
    );
  }
  if (opts.clientCert && mode === "starttls") {
    return unsupported(
      "deno",
      "present a client certificate after STARTTLS (Deno.startTls ignores it)",
      `${USE_NODE}, or use implicit TLS`,
    );
  }
  if (opts.clientCert && opts.serverName !== undefined && opts.serverName !== host) {
    return unsupported(
      "deno",
      "check a server_name different from the host dialled when a client certificate is set (Deno.connectTls dials the name it checks)",
      `${USE_NODE}, or set host to the certificate's name`,
    );
  }
  return null;
}

const caList = (
  ca: string | string[] | undefined,
) => (ca === undefined ? undefined : Array.isArray(ca) ? ca : [ca]);

class DenoConn implements Conn {
  readonly adapter = "deno" as const;
  tls: TlsFacts | null = null;
  #conn: DConn;
  #unread: Uint8Array[] = [];
  #unreadSize = 0;
  #reading = false;
  #closed = false;
  #eof = false;
  #ctx: TlsContext | null = null;
  readonly #host: string;
  readonly #port: number;

  constructor(conn: DConn, host: string, port: number) {
    this.#conn = conn;
    this.#host = host;
    this.#port = port;
  }

  get bufferedBytes(): number {
    return this.#unreadSize;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async read(): Promise<Uint8Array | null> {
    const first = this.#unread.shift();
    if (first) {
      this.#unreadSize -= first.length;
      return first;
    }
    if (this.#closed || this.#eof) return null;
    if (this.#reading) throw new Error("DenoConn: concurrent read()");
    this.#reading = true;
    const buf = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.#conn.read(buf);
    } catch (e) {
      this.#eof = true;
      if (this.#closed) return null;
      const failure = this.#ctx ? classifyReadError(e, this.#ctx) : null;
      if (failure) throw failure;
      return null;
    } finally {
      this.#reading = false;
    }
    if (n === null) {
      this.#eof = true;
      return null;
    }
    return buf.slice(0, n);
  }

  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#unread.unshift(bytes);
    this.#unreadSize += bytes.length;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let rest = bytes;
    while (rest.length > 0) {
      if (this.#closed) throw closedError();
      try {
        rest = rest.subarray(await this.#conn.write(rest));
      } catch (e) {
        throw Object.assign(closedError(), { cause: e });
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unread = [];
    this.#unreadSize = 0;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  startTls(options: StartTlsOptions): Promise<TlsFacts> {
    return this.upgrade(options, "starttls", options.signal);
  }

  async upgrade(opts: TlsOptions, mode: "implicit" | "starttls", signal?: AbortSignal): Promise<TlsFacts> {
    if (this.#reading && !this.#closed && this.tls === null) {
      throw new Error("DenoConn: startTls while a read() is pending (Deno.startTls would fail with Busy)");
    }
    const side: UpgradeSide = {
      adapter: "deno",
      host: this.#host,
      port: this.#port,
      isTls: this.tls !== null,
      closed: this.#closed,
      bufferedBytes: this.#unreadSize,
      refuse: (o, m) => refuse(o, m, this.#host),
      handshake: async (o, ctx, sig) => {
        const t = await abortable(
          Deno.startTls(this.#conn, { hostname: ctx.name, caCerts: caList(o.ca) }),
          sig,
          () => this.close(),
        );
        this.#conn = t;
        await abortable(t.handshake?.() ?? Promise.resolve(), sig, () => this.close());
        return rustlsFacts(mode);
      },
      abort: () => this.close(),
    };
    const { facts, ctx } = await upgradeTls(side, opts, mode, signal);
    this.#ctx = ctx;
    this.tls = facts;
    return facts;
  }

  /** Implicit TLS with a client certificate: only `Deno.connectTls` presents one. */
  static async connectTls(opts: ConnectOptions & { tls: TlsOptions }): Promise<DenoConn> {
    const { host, port, signal } = opts;
    let dc: DenoConn | null = null;
    const side: UpgradeSide = {
      adapter: "deno",
      host,
      port,
      isTls: false,
      closed: false,
      bufferedBytes: 0,
      refuse: (o, m) => refuse(o, m, host),
      handshake: async (o, _ctx, sig) => {
        let conn: DConn;
        try {
          conn = await abortable(
            Deno.connectTls({ hostname: host, port, caCerts: caList(o.ca), cert: o.clientCert!.cert, key: o.clientCert!.key }),
            sig,
            () => {},
          );
        } catch (e) {
          if (sig?.aborted && e === sig.reason) throw e;
          const { code, message } = errorText(e);
          if (/ConnectionRefused|ECONNREFUSED|refused|NotFound|unreachable|AddrNotAvailable/i.test(`${code} ${message} ${(e as Error)?.name}`)) {
            throw connectError(e, host, port);
          }
          throw e;
        }
        try {
          conn.setNoDelay?.(true);
        } catch { /* not a TCP-level conn in this version */ }
        dc = new DenoConn(conn, host, port);
        await abortable(conn.handshake?.() ?? Promise.resolve(), sig, () => dc?.close());
        return rustlsFacts("implicit");
      },
      abort: () => dc?.close(),
    };
    const { facts, ctx } = await upgradeTls(side, opts.tls, "implicit", signal);
    const conn = dc as DenoConn | null;
    if (!conn) throw new Error("DenoConn.connectTls: no connection after the handshake");
    conn.#ctx = ctx;
    conn.tls = facts;
    return conn;
  }
}

/** rustls verified chain and name itself (a failure rejects); nothing else is visible. */
const rustlsFacts = (mode: "implicit" | "starttls"): RawHandshake => ({
  adapter: "deno",
  mode,
  version: null,
  cipher: null,
  chainTrusted: true,
  chainError: null,
  peerDer: null,
  namesCheckedByRuntime: true,
});

/** Races `p` with the signal; on abort runs `cleanup` and rejects with `signal.reason`. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, cleanup: () => void): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      cleanup();
      p.then((v) => (v as { close?: () => void })?.close?.(), () => {});
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

async function connect(opts: ConnectOptions): Promise<Conn> {
  opts.signal?.throwIfAborted();
  if (opts.tls) {
    const refusal = refuse(opts.tls, "implicit", opts.host);
    if (refusal) throw refusal;
    if (opts.tls.clientCert) return await DenoConn.connectTls({ ...opts, tls: opts.tls });
  }
  let tcp: DConn;
  try {
    tcp = await abortable(Deno.connect({ hostname: opts.host, port: opts.port }), opts.signal, () => {});
  } catch (e) {
    if (e === opts.signal?.reason) throw e;
    throw connectError(e, opts.host, opts.port);
  }
  tcp.setNoDelay?.(true);
  const conn = new DenoConn(tcp, opts.host, opts.port);
  if (opts.tls) await conn.upgrade(opts.tls, "implicit", opts.signal);
  return conn;
}

/** The Deno native adapter. */
export const adapter: Adapter = { name: "deno", capabilities, connect };
