/**
 * Classification of connect / TLS failures into contract codes (shared/docs/contract.md), and
 * the post-handshake checks (verification result, minimum version, SPKI pins) every adapter runs
 * before its `connect`/`startTls` resolves, i.e. before any byte is written to the peer.
 *
 * ```ts
 * try { await conn.startTls({ pins }) } catch (e) {
 *   if (e instanceof NetError) console.log(e.code, e.message, e.hint); // "CERT_PIN_MISMATCH", …
 * }
 * ```
 */
import type { PeerCertificate, TlsFacts, TlsOptions } from "./conn.ts";

/** Contract codes this layer produces, plus `CONNECTION_CLOSED` (write on a closed connection;
 * the engine maps it by phase, e.g. DELIVERY_UNKNOWN after the final dot). */
export type NetErrorCode =
  | "CONNECT_FAILED"
  | "TLS_MODE_MISMATCH"
  | "STARTTLS_INJECTION"
  | "TLS_HANDSHAKE_FAILED"
  | "TLS_VERSION_TOO_LOW"
  | "CERT_UNTRUSTED"
  | "CERT_EXPIRED"
  | "CERT_HOSTNAME_MISMATCH"
  | "CERT_PIN_MISMATCH"
  | "CONNECTION_CLOSED";

/** Where the failure happened, in the contract's phase vocabulary. */
export type NetPhase = "connect" | "starttls" | "tls";

/** A classified network failure: one contract code, a one-sentence message, and a hint that
 * says what to change. `detail` keeps the runtime's own code or message for transcripts. */
export class NetError extends Error {
  override name = "NetError";
  readonly code: NetErrorCode;
  readonly phase: NetPhase;
  readonly temporary: boolean;
  readonly hint: string;
  readonly detail: string | null;
  constructor(
    code: NetErrorCode,
    message: string,
    opts: { phase: NetPhase; hint: string; temporary?: boolean; detail?: string | null; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.phase = opts.phase;
    this.temporary = opts.temporary ?? false;
    this.hint = opts.hint;
    this.detail = opts.detail ?? null;
  }
}

/** What the classifier knows about the attempt. */
export interface TlsContext {
  host: string;
  port: number;
  mode: "implicit" | "starttls";
  /** The name checked against the certificate (serverName ?? host). */
  name: string;
  minVersion?: "1.2" | "1.3";
  clientCert: boolean;
  /** Peer chain when the adapter could see it (used to classify expiry and describe the peer). */
  peerChain?: PeerCertificate[] | null;
  now?: Date;
}

/** The runtime's code and message of an error-like value (Error, string, `{code}`), causes included. */
export function errorText(err: unknown): { code: string; message: string } {
  if (err == null) return { code: "", message: "" };
  if (typeof err === "string") return { code: /^[A-Z0-9_]+$/.test(err) ? err : "", message: err };
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  let message = typeof e.message === "string" ? e.message : String(err);
  if (e.cause && e.cause !== err) {
    const c = errorText(e.cause);
    message += ` (${[c.code, c.message].filter(Boolean).join(": ")})`;
    if (!code && c.code) return { code: c.code, message };
  }
  if (!code && typeof e.name === "string" && e.name !== "Error") message = `${e.name}: ${message}`;
  return { code, message };
}

const where = (c: TlsContext) => `${c.host.includes(":") ? `[${c.host}]` : c.host}:${c.port}`;
const leafName = (c: TlsContext) => (c.peerChain?.[0] ? ` (${c.peerChain[0].subject})` : "");

/** First certificate of the chain outside its validity period at `now`. */
function outOfDate(chain: PeerCertificate[] | null | undefined, now: Date): PeerCertificate | null {
  for (const cert of chain ?? []) {
    if (Date.parse(cert.validTo) < now.getTime() || Date.parse(cert.validFrom) > now.getTime()) return cert;
  }
  return null;
}

type Kind =
  | "mode"
  | "expired"
  | "hostname"
  | "selfsigned"
  | "version"
  | "clientcert"
  | "untrusted"
  | "ambiguous";

// Order matters: the first match wins. Deno native reports rustls messages; Bun and node:tls
// report OpenSSL/BoringSSL codes (runtimes.md, "Error texts").
const PATTERNS: [RegExp, Kind][] = [
  [
    /WRONG_VERSION_NUMBER|wrong version number|InvalidContentType|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL/i,
    "mode",
  ],
  [
    /CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|certificate expired|certificate not valid yet|NotValidYet|\bExpired\b/i,
    "expired",
  ],
  [
    /ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH|not valid for name|NotValidForName|does not match certificate/i,
    "hostname",
  ],
  [/DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|self[- ]signed/i, "selfsigned"],
  [
    /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|ProtocolVersion|unsupported protocol|NO_SUPPORTED_VERSIONS|version too low/i,
    "version",
  ],
  [
    /CERTIFICATE_REQUIRED|CertificateRequired|PEER_DID_NOT_RETURN_A_CERTIFICATE|BAD_CERTIFICATE|BadCertificate|ALERT_UNKNOWN_CA|UnknownCA|certificate required/i,
    "clientcert",
  ],
  [/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify the first certificate/i, "ambiguous"],
  [
    /UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|UnknownIssuer|CERT_SIGNATURE_FAILURE|BadSignature|INVALID_CA|CaUsedAsEndEntity|invalid peer certificate|CERT_CHAIN_TOO_LONG|certificate verify failed|unable to get local issuer/i,
    "untrusted",
  ],
];

/**
 * Maps a handshake or verification failure (a runtime error, or an `authorizationError` code) to
 * exactly one contract code. Expiry is decided from the peer chain's dates when the runtime's code
 * is ambiguous (Deno node:tls reports an expired leaf as UNABLE_TO_VERIFY_LEAF_SIGNATURE).
 */
export function classifyTlsError(err: unknown, ctx: TlsContext): NetError {
  if (err instanceof NetError) return err;
  const { code, message } = errorText(err);
  const text = `${code} ${message}`;
  const detail = [code, message].filter(Boolean).join(": ") || null;
  let kind: Kind | null = null;
  for (const [re, k] of PATTERNS) {
    if (re.test(text)) {
      kind = k;
      break;
    }
  }
  const stale = outOfDate(ctx.peerChain, ctx.now ?? new Date());
  if (kind === "ambiguous" || (kind === "untrusted" && stale)) kind = stale ? "expired" : "untrusted";
  const leaf = ctx.peerChain?.[0];
  if (kind === "untrusted" && ctx.peerChain?.length === 1 && leaf && leaf.issuer === leaf.subject) {
    kind = "selfsigned";
  }
  const tls = (c: Exclude<NetErrorCode, "CONNECT_FAILED">, msg: string, hint: string) =>
    new NetError(c, msg, { phase: "tls", hint, detail, cause: err });

  switch (kind) {
    case "mode":
      return ctx.mode === "implicit"
        ? tls(
          "TLS_MODE_MISMATCH",
          `The server at ${
            where(ctx)
          } answered in plaintext, not TLS: this port speaks plaintext SMTP; use strategy: starttls.`,
          "set strategy: starttls for this port, or use the server's implicit-TLS port (usually 465)",
        )
        : tls(
          "TLS_HANDSHAKE_FAILED",
          `The server at ${where(ctx)} agreed to STARTTLS but then did not speak TLS.`,
          "the server or something in the path is broken or tampering; keep TLS required and contact the server's operator",
        );
    case "expired": {
      const cert = stale ?? ctx.peerChain?.[0];
      // rustls (Deno native) gives UNIX times: "… not valid after 1609459200 …"
      const epoch = /not valid (after|before) (\d{9,})/.exec(text);
      const when = cert
        ? (Date.parse(cert.validFrom) > (ctx.now ?? new Date()).getTime()
          ? ` is not valid before ${cert.validFrom}`
          : ` expired on ${cert.validTo}`)
        : epoch
        ? (epoch[1] === "after"
          ? ` expired on ${new Date(+epoch[2] * 1000).toISOString()}`
          : ` is not valid before ${new Date(+epoch[2] * 1000).toISOString()}`)
        : /not valid yet|NotValidYet|NOT_YET_VALID/i.test(text)
        ? ` is not valid yet (${detail})`
        : ` has expired (${detail})`;
      return tls(
        "CERT_EXPIRED",
        `The server's certificate${cert ? ` (${cert.subject})` : ""}${when}.`,
        "renew the certificate on the server, or check this machine's clock",
      );
    }
    case "hostname": {
      const sans = ctx.peerChain?.[0]?.subjectAltNames;
      const only = /only valid for (.+?)\.?$/.exec(message)?.[1]; // rustls: DnsName("x"), …
      const covers = sans?.length
        ? ` (it covers ${sans.join(", ")})`
        : only
        ? ` (it is only valid for ${only})`
        : "";
      return tls(
        "CERT_HOSTNAME_MISMATCH",
        `The server's certificate does not cover "${ctx.name}"${covers}.`,
        "connect with a name the certificate covers, or set security.server_name to one of them",
      );
    }
    case "selfsigned":
      return tls(
        "CERT_UNTRUSTED",
        `The server at ${where(ctx)} presents a self-signed certificate${leafName(ctx)}.`,
        "add that certificate (or its CA) with security.ca, or pin its key with security.pin",
      );
    case "version":
      return tls(
        "TLS_VERSION_TOO_LOW",
        ctx.minVersion === "1.3"
          ? `The server at ${where(ctx)} does not offer TLS 1.3 (min_tls is "1.3").`
          : `The server at ${where(ctx)} offers no TLS version mailplan accepts (1.2 or newer).`,
        ctx.minVersion === "1.3"
          ? 'upgrade the server, or set security.min_tls: "1.2"'
          : "upgrade the server's TLS; versions below 1.2 are never accepted",
      );
    case "clientcert":
      return ctx.clientCert
        ? tls(
          "TLS_HANDSHAKE_FAILED",
          `The server at ${where(ctx)} rejected the client certificate.`,
          "check that security.client_cert is issued by a CA the server trusts and is not expired",
        )
        : tls(
          "TLS_HANDSHAKE_FAILED",
          `The server at ${where(ctx)} requires a client certificate.`,
          "set security.client_cert: { cert, key }",
        );
    case "untrusted": {
      const leaf = ctx.peerChain?.[0];
      const onlyLeaf = ctx.peerChain?.length === 1 && leaf && leaf.issuer !== leaf.subject;
      return tls(
        "CERT_UNTRUSTED",
        `The server's certificate${leafName(ctx)} does not chain to a trusted CA${
          leaf ? ` (issuer: ${leaf.issuer})` : ""
        }.`,
        onlyLeaf || /LEAF_SIGNATURE|first certificate/i.test(text)
          ? "add the issuing CA with security.ca; if the server omits its intermediate certificate, fix the server or add the intermediate to security.ca too"
          : "add the issuing CA with security.ca",
      );
    }
    default:
      return tls(
        "TLS_HANDSHAKE_FAILED",
        `The TLS handshake with ${where(ctx)} failed${detail ? `: ${detail}` : ""}.`,
        "check that the port and strategy are right and that the server's TLS configuration (versions, ciphers, certificate) is sound",
      );
  }
}

/** Maps a TCP connect failure to CONNECT_FAILED (refused, unreachable and timeouts are temporary). */
export function connectError(err: unknown, host: string, port: number): NetError {
  if (err instanceof NetError) return err;
  const { code, message } = errorText(err);
  const text = `${code} ${message}`;
  const refused = /ECONNREFUSED|ConnectionRefused|refused/i.test(text);
  const dns = /ENOTFOUND|EAI_|getaddrinfo|failed to lookup|Name or service not known/i.test(text);
  const addr = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new NetError(
    "CONNECT_FAILED",
    refused
      ? `Could not connect to ${addr}: connection refused.`
      : dns
      ? `Could not resolve "${host}".`
      : `Could not connect to ${addr}: ${message || code}.`,
    {
      phase: "connect",
      temporary: !dns,
      detail: [code, message].filter(Boolean).join(": ") || null,
      hint: dns
        ? "check the relay's host name"
        : "check host and port, and that the server is running and reachable",
      cause: err,
    },
  );
}

/** The error for an option the adapter cannot honour; raised before any handshake. */
export function unsupported(adapter: string, what: string, hint: string): NetError {
  return new NetError("TLS_HANDSHAKE_FAILED", `The ${adapter} adapter cannot ${what}.`, {
    phase: "tls",
    hint,
  });
}

/** The error for bytes buffered after the STARTTLS 220 and before the handshake. */
export function injectionError(bytes: number): NetError {
  return new NetError(
    "STARTTLS_INJECTION",
    `The server sent ${bytes} byte${
      bytes === 1 ? "" : "s"
    } after its STARTTLS reply and before the TLS handshake (response injection).`,
    {
      phase: "starttls",
      hint: "something in the path injected plaintext; the connection was dropped, do not retry in clear",
    },
  );
}

/** The error for a write or startTls on a connection that is already closed. */
export function closedError(): NetError {
  return new NetError("CONNECTION_CLOSED", "The connection is closed.", {
    phase: "connect",
    temporary: true,
    hint: "the server or a timeout ended the connection; retry later",
  });
}

/**
 * Checks the leaf's SPKI pin against `pins` (`sha256/BASE64`). Returns null when it matches or
 * `pins` is empty; a CERT_PIN_MISMATCH NetError otherwise, or a TLS_HANDSHAKE_FAILED one when the
 * adapter cannot see the peer certificate. Call it after the handshake, before writing any byte.
 */
export function checkPins(
  pins: readonly string[] | undefined,
  facts: Pick<TlsFacts, "peerChain" | "adapter">,
): NetError | null {
  if (!pins || pins.length === 0) return null;
  const leaf = facts.peerChain?.[0];
  if (!leaf) {
    return unsupported(
      facts.adapter,
      "check security.pin: it does not expose the peer certificate",
      "use the node-tls adapter, or remove security.pin",
    );
  }
  if (pins.some((p) => p.trim() === leaf.spkiPin)) return null;
  return new NetError(
    "CERT_PIN_MISMATCH",
    `The server's public key (${leaf.spkiPin}) matches none of the configured pins.`,
    {
      phase: "tls",
      hint: `if the server's key was rotated on purpose, add "${leaf.spkiPin}" to security.pin`,
    },
  );
}

const VERSION_RANK: Record<string, number> = { "TLSv1": 10, "TLSv1.1": 11, "TLSv1.2": 12, "TLSv1.3": 13 };

/**
 * Every post-handshake check, in order: verification (unless `verify: false`), minimum version,
 * pins. Returns the first failure, or null when the session may be used.
 */
export function checkSession(facts: TlsFacts, opts: TlsOptions, ctx: TlsContext): NetError | null {
  if (opts.verify !== false && !facts.authorized) {
    return classifyTlsError(facts.authorizationError ?? "certificate verify failed", {
      ...ctx,
      peerChain: facts.peerChain,
    });
  }
  const min = opts.minVersion ?? "1.2";
  if (facts.version !== null) {
    const rank = VERSION_RANK[facts.version] ?? 0;
    if (rank < (min === "1.3" ? 13 : 12)) {
      return new NetError(
        "TLS_VERSION_TOO_LOW",
        `The server at ${where(ctx)} negotiated ${facts.version}, below min_tls "${min}".`,
        {
          phase: "tls",
          hint: min === "1.3"
            ? 'upgrade the server, or set security.min_tls: "1.2"'
            : "upgrade the server's TLS",
        },
      );
    }
  }
  return checkPins(opts.pins, facts);
}
