/**
 * The one connection interface the core owns. Adapters (`bun.ts`, `node-tls.ts`, `deno.ts`)
 * implement it; only `detect.ts` imports them.
 *
 * ```ts
 * import { connect } from "./detect.ts";
 * const conn = await connect({ host: "127.0.0.1", port: 587 });
 * const greeting = await conn.read();          // Uint8Array | null (EOF)
 * await conn.write(new TextEncoder().encode("EHLO me\r\n"));
 * // … after "220 Ready to start TLS", hand back any byte past that line with conn.unread(rest):
 * const facts = await conn.startTls({ serverName: "smtp.example.com", pins: ["sha256/…"] });
 * conn.close();
 * ```
 *
 * Rules every adapter keeps:
 * - Verification (chain, hostname), `minVersion` and `pins` are checked right after the handshake
 *   and before `connect`/`startTls` resolves, so no byte is written to an unverified peer.
 *   A failure closes the socket and rejects with a {@link NetError} carrying a contract code.
 * - A fact the adapter cannot see is `null` in {@link TlsFacts}, never guessed.
 * - An option the adapter cannot honour (e.g. `pins` where the peer certificate is invisible)
 *   rejects BEFORE any handshake, with a NetError whose hint names an adapter that can.
 */
import type { SanEntry } from "./names.ts";
export { NetError } from "./errors.ts";
export type { NetErrorCode, NetPhase } from "./errors.ts";

/** Adapter names, selectable with `connect({ adapter })`. */
export type AdapterName = "bun" | "node-tls" | "deno";

/** TLS client options shared by implicit TLS (`connect({ tls })`) and `startTls`. */
export interface TlsOptions {
  /** Extra trust anchors, PEM text (one or more certificates). ADDED to the runtime's default
   * roots on every adapter, never replacing them (verify.ts `trustAnchors`; README `.security.ca`). */
  ca?: string | string[];
  /** SNI and the name checked against the certificate (default: the host dialled). */
  serverName?: string;
  /** Lowest acceptable protocol version (default "1.2"). */
  minVersion?: "1.2" | "1.3";
  /** Verify chain and hostname (default true). `false` skips both; pins are still enforced. */
  verify?: boolean;
  /** Client certificate (PEM) and its key (PEM). */
  clientCert?: { cert: string; key: string };
  /** Accepted `sha256/BASE64` SPKI pins of the leaf; empty or absent = no pinning. */
  pins?: string[];
}

/** Options of `startTls`: the TLS options plus an AbortSignal for the handshake. */
export interface StartTlsOptions extends TlsOptions {
  /** Aborting destroys the socket and rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** Options of `connect`. */
export interface ConnectOptions {
  /** Host name or IP literal to dial. */
  host: string;
  port: number;
  /** Present → implicit TLS (handshake before `connect` resolves); absent → plain TCP. */
  tls?: TlsOptions;
  /** Aborting destroys the socket and rejects with `signal.reason` (TCP connect and handshake). */
  signal?: AbortSignal;
}

/** One certificate of the peer's chain, as far as the adapter sees it. */
export interface PeerCertificate {
  /** Distinguished name, e.g. `CN=localhost`. */
  subject: string;
  issuer: string;
  /** Subject alternative names as `DNS:x` / `IP Address:y` text, for people (names.ts sanText). */
  subjectAltNames: string[];
  /** The same entries typed, from the DER: what every name decision uses (names.ts). */
  sans: SanEntry[];
  /** ISO-8601 validity bounds. */
  validFrom: string;
  validTo: string;
  /** SHA-256 fingerprint of the DER certificate, colon-separated upper-case hex. */
  fingerprint256: string;
  /** `sha256/BASE64` of the DER SubjectPublicKeyInfo. */
  spkiPin: string;
}

/** What is known about an established TLS session. `null` = the adapter cannot tell. */
export interface TlsFacts {
  adapter: AdapterName;
  /** `"TLSv1.2"` | `"TLSv1.3"`; null when the adapter does not expose it. */
  version: string | null;
  /** Cipher suite (OpenSSL or IANA name as the runtime reports it); null when unknown. */
  cipher: string | null;
  /** Chain and hostname verified. false only with `verify: false`. */
  authorized: boolean;
  /** Why verification failed (runtime's code), when `verify: false` let it through; else null. */
  authorizationError: string | null;
  /** Peer chain, leaf first, as far as the adapter sees it (Bun native: leaf only);
   * null when the adapter cannot see the peer certificate at all. */
  peerChain: PeerCertificate[] | null;
  /** How the handshake was started. */
  mode: "implicit" | "starttls";
}

/** What an adapter can do, as measured (see runtimes.md); used to refuse options early. */
export interface Capabilities {
  /** Negotiated version and cipher are exposed. */
  versionAndCipher: boolean;
  /** Peer chain visibility. */
  peerChain: "full" | "leaf" | "none";
  /** `minVersion: "1.3"` can be enforced. */
  minVersion13: boolean;
  /** `verify: false` is possible. */
  verifyOff: boolean;
  /** Client certificate with implicit TLS / after STARTTLS. */
  clientCertImplicit: boolean;
  clientCertStartTls: boolean;
  /** `serverName` may differ from the host dialled, with implicit TLS + client certificate. */
  serverNameWithClientCert: boolean;
}

/** A connection, plain or TLS. Not safe for concurrent `read()` calls. */
export interface Conn {
  readonly adapter: AdapterName;
  /** Facts of the TLS session, null while plain. */
  readonly tls: TlsFacts | null;
  /** Bytes received but not yet returned by `read()` (including bytes given back with `unread`).
   * After the STARTTLS `220`, anything non-zero here is an injection attack. Bytes still in the
   * kernel are invisible to every adapter (Deno native reads only on demand). */
  readonly bufferedBytes: number;
  /** true once closed locally or by the peer. */
  readonly closed: boolean;
  /** Next chunk of bytes, or null at EOF, after a reset, or once `close()` was called (a pending
   * read resolves null when `close()` is called). Rejects with a NetError for a TLS failure
   * reported after the handshake (e.g. a TLS 1.3 server refusing the client certificate). */
  read(): Promise<Uint8Array | null>;
  /** Gives bytes back: the next `read()` returns them first, and they count in `bufferedBytes`. */
  unread(bytes: Uint8Array): void;
  /** Writes all bytes (waits for drain). Rejects with NetError `CONNECTION_CLOSED` when closed. */
  write(bytes: Uint8Array): Promise<void>;
  /** Upgrades in place. Rejects with STARTTLS_INJECTION if `bufferedBytes > 0`, or with the
   * classified TLS error; the connection is closed on any rejection. */
  startTls(options: StartTlsOptions): Promise<TlsFacts>;
  /** Closes immediately (no TLS close_notify wait); idempotent. */
  close(): void;
}

/** An adapter: a runtime's way of making {@link Conn}s. */
export interface Adapter {
  readonly name: AdapterName;
  readonly capabilities: Capabilities;
  connect(options: ConnectOptions): Promise<Conn>;
}
