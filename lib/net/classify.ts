/**
 * Classification of connect / TLS failures into contract codes (shared/docs/contract.md): one
 * table of runtime error patterns (OpenSSL/BoringSSL codes from Bun and node:tls, rustls
 * messages from Deno; runtimes.md "Error texts"), and one sentence + hint per kind.
 *
 * Invariants: every failure maps to exactly one code; the runtime's own text stays in `detail`
 * (transcripts), never in place of the sentence; a connection reset is not a TLS failure
 * ({@link classifyReadError} returns null for it, the session reports the close by phase).
 *
 * ```ts
 * classifyTlsError(err, { host, port, mode: "implicit", name: host, clientCert: false }).code;
 * // "TLS_MODE_MISMATCH" for a plaintext port, "CERT_UNTRUSTED" for an unknown CA, …
 * ```
 */
import type { PeerCertificate } from "./conn.ts";
import { errorText, NetError, type NetErrorCode } from "./errors.ts";

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

type Kind =
  | "mode"
  | "expired"
  | "hostname"
  | "selfsigned"
  | "version"
  | "clientcert"
  | "cipher"
  | "untrusted"
  | "ambiguous";

// Order matters: the first match wins.
const PATTERNS: [RegExp, Kind][] = [
  [
    /WRONG_VERSION_NUMBER|wrong version number|InvalidContentType|CorruptMessage|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL/i,
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
  [
    /ALERT_HANDSHAKE_FAILURE|alert handshake failure|HandshakeFailure|NO_SHARED_CIPHER|no shared cipher|NO_CIPHERS_AVAILABLE|NO_CIPHER_MATCH|no cipher match|NoCipherSuitesInCommon|INSUFFICIENT_SECURITY|InsufficientSecurity/i,
    "cipher",
  ],
  [/UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify the first certificate/i, "ambiguous"],
  [
    /UNABLE_TO_GET_ISSUER_CERT|CERT_UNTRUSTED|UnknownIssuer|CERT_SIGNATURE_FAILURE|BadSignature|INVALID_CA|CaUsedAsEndEntity|invalid peer certificate|CERT_CHAIN_TOO_LONG|certificate verify failed|unable to get local issuer/i,
    "untrusted",
  ],
];

/** A reset or broken pipe: the peer went away, not a TLS verdict (every runtime's spelling). */
const RESET =
  /ECONNRESET|EPIPE|ECONNABORTED|socket hang up|Broken ?pipe|connection reset|ConnectionReset|UnexpectedEof|peer closed connection/i;

const where = (c: TlsContext) => `${c.host.includes(":") ? `[${c.host}]` : c.host}:${c.port}`;
const leafName = (c: TlsContext) => (c.peerChain?.[0] ? ` (${c.peerChain[0].subject})` : "");

/** First certificate of the chain outside its validity period at `now`. */
function outOfDate(chain: PeerCertificate[] | null | undefined, now: Date): PeerCertificate | null {
  for (const cert of chain ?? []) {
    if (Date.parse(cert.validTo) < now.getTime() || Date.parse(cert.validFrom) > now.getTime()) return cert;
  }
  return null;
}

function kindOf(text: string, ctx: TlsContext): Kind | null {
  let kind = PATTERNS.find(([re]) => re.test(text))?.[1] ?? null;
  const stale = outOfDate(ctx.peerChain, ctx.now ?? new Date());
  if (kind === "ambiguous") kind = "untrusted";
  if (kind === "untrusted" && stale) return "expired";
  const leaf = ctx.peerChain?.[0];
  if (kind === "untrusted" && ctx.peerChain?.length === 1 && leaf && leaf.issuer === leaf.subject) return "selfsigned";
  return kind;
}

/** " expired on …" / " is not valid before …", from the chain, else from rustls' UNIX times. */
function expiryWords(text: string, detail: string | null, cert: PeerCertificate | undefined, now: Date): string {
  if (cert) {
    return Date.parse(cert.validFrom) > now.getTime() ? ` is not valid before ${cert.validFrom}` : ` expired on ${cert.validTo}`;
  }
  const epoch = /not valid (after|before) (\d{9,})/.exec(text); // rustls: "… not valid after 1609459200 …"
  if (epoch) {
    const at = new Date(+epoch[2] * 1000).toISOString();
    return epoch[1] === "after" ? ` expired on ${at}` : ` is not valid before ${at}`;
  }
  if (/not valid yet|NotValidYet|NOT_YET_VALID/i.test(text)) return ` is not valid yet (${detail})`;
  return ` has expired (${detail})`;
}

type Build = (ctx: TlsContext, text: string, detail: string | null) => [Exclude<NetErrorCode, "CONNECT_FAILED">, string, string];

/** The client-certificate refusal: the sentence and the hint naming security.client_cert. */
const clientCertWords = (ctx: TlsContext): [string, string] =>
  ctx.clientCert
    ? [`The server at ${where(ctx)} rejected the client certificate.`, "check that security.client_cert is issued by a CA the server trusts and is not expired"]
    : [`The server at ${where(ctx)} requires a client certificate.`, "set security.client_cert: { cert, key }"];

const BUILD: Record<Exclude<Kind, "ambiguous">, Build> = {
  mode: (ctx) =>
    ctx.mode === "implicit"
      ? [
        "TLS_MODE_MISMATCH",
        `The server at ${where(ctx)} answered in plaintext, not TLS: this port speaks plaintext SMTP; use strategy: starttls.`,
        "set strategy: starttls for this port, or use the server's implicit-TLS port (usually 465)",
      ]
      : [
        "TLS_HANDSHAKE_FAILED",
        `The server at ${where(ctx)} agreed to STARTTLS but then did not speak TLS.`,
        "the server or something in the path is broken or tampering; keep TLS required and contact the server's operator",
      ],
  expired: (ctx, text, detail) => {
    const now = ctx.now ?? new Date();
    const cert = outOfDate(ctx.peerChain, now) ?? ctx.peerChain?.[0];
    return [
      "CERT_EXPIRED",
      `The server's certificate${cert ? ` (${cert.subject})` : ""}${expiryWords(text, detail, cert, now)}.`,
      "renew the certificate on the server, or check this machine's clock",
    ];
  },
  hostname: (ctx, text) => {
    const sans = ctx.peerChain?.[0]?.subjectAltNames;
    const only = /only valid for (.+?)\.?$/.exec(text)?.[1]; // rustls: DnsName("x"), …
    const covers = sans?.length ? ` (it covers ${sans.join(", ")})` : only ? ` (it is only valid for ${only})` : "";
    return [
      "CERT_HOSTNAME_MISMATCH",
      `The server's certificate does not cover "${ctx.name}"${covers}.`,
      "connect with a name the certificate covers, or set security.server_name to one of them",
    ];
  },
  selfsigned: (ctx) => [
    "CERT_UNTRUSTED",
    `The server at ${where(ctx)} presents a self-signed certificate${leafName(ctx)}.`,
    "add that certificate (or its CA) with security.ca, or pin its key with security.pin",
  ],
  version: (ctx) =>
    ctx.minVersion === "1.3"
      ? ["TLS_VERSION_TOO_LOW", `The server at ${where(ctx)} does not offer TLS 1.3 (min_tls is "1.3").`, 'upgrade the server, or set security.min_tls: "1.2"']
      : ["TLS_VERSION_TOO_LOW", `The server at ${where(ctx)} offers no TLS version mailplan accepts (1.2 or newer).`, "upgrade the server's TLS; versions below 1.2 are never accepted"],
  clientcert: (ctx) => ["TLS_HANDSHAKE_FAILED", ...clientCertWords(ctx)],
  // A handshake_failure alert: almost always no common cipher suite; a TLS 1.2 server that
  // demands a client certificate sends the same alert, so that cause is named too.
  cipher: (ctx) => [
    "TLS_HANDSHAKE_FAILED",
    `The server at ${where(ctx)} refused the TLS handshake: it offers no cipher in common with mailplan${
      ctx.clientCert ? "" : " (or it requires a client certificate)"
    }.`,
    `run \`mailplan probe ${where(ctx)}\` to see which ciphers it offers; the fix is on the server: enable TLS 1.2 or 1.3 with ECDHE and AES-GCM or ChaCha20${
      ctx.clientCert ? "" : " (if it wants a client certificate: set security.client_cert)"
    }`,
  ],
  untrusted: (ctx, text) => {
    const leaf = ctx.peerChain?.[0];
    const onlyLeaf = ctx.peerChain?.length === 1 && leaf && leaf.issuer !== leaf.subject;
    return [
      "CERT_UNTRUSTED",
      `The server's certificate${leafName(ctx)} does not chain to a trusted CA${leaf ? ` (issuer: ${leaf.issuer})` : ""}.`,
      onlyLeaf || /LEAF_SIGNATURE|first certificate/i.test(text)
        ? "add the issuing CA with security.ca; if the server omits its intermediate certificate, fix the server or add the intermediate to security.ca too"
        : "add the issuing CA with security.ca",
    ];
  },
};

/**
 * Maps a handshake or verification failure (a runtime error, or an `authorizationError` code) to
 * exactly one contract code. Expiry is decided from the peer chain's dates when the runtime's code
 * is ambiguous (Deno node:tls reports an expired leaf as UNABLE_TO_VERIFY_LEAF_SIGNATURE).
 *
 * @example
 * classifyTlsError({ code: "CERT_HAS_EXPIRED" }, ctx).code; // "CERT_EXPIRED"
 */
export function classifyTlsError(err: unknown, ctx: TlsContext): NetError {
  if (err instanceof NetError) return err;
  const { code, message } = errorText(err);
  const text = `${code} ${message}`;
  const detail = [code, message].filter(Boolean).join(": ") || null;
  const kind = kindOf(text, ctx);
  const [c, msg, hint] = kind && kind !== "ambiguous" ? BUILD[kind](ctx, text, detail) : [
    "TLS_HANDSHAKE_FAILED" as const,
    `The TLS handshake with ${where(ctx)} failed${detail ? `: ${detail}` : ""}.`,
    "check that the port and strategy are right and that the server's TLS configuration (versions, ciphers, certificate) is sound",
  ];
  return new NetError(c, msg, { phase: "tls", hint, detail, cause: err });
}

/**
 * An error on an established TLS session, as the reader sees it: null for a plain reset / EOF
 * (the session names the phase), a NetError for a TLS alert (e.g. TLS 1.3 "certificate
 * required", threats X4). No adapter can tell whether the server sent a CertificateRequest, so a
 * bare close after the handshake stays a close.
 *
 * @example
 * classifyReadError({ code: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" }, ctx)?.code; // "TLS_HANDSHAKE_FAILED"
 */
export function classifyReadError(err: unknown, ctx: TlsContext): NetError | null {
  if (err == null || isReset(err)) return null;
  return classifyTlsError(err, ctx);
}

/**
 * The kind of a TLS failure by the runtime's text alone (no context): the pattern table above.
 *
 * @example
 * tlsFailureKind({ code: "ERR_SSL_WRONG_VERSION_NUMBER" }); // "mode"
 */
export function tlsFailureKind(err: unknown): Exclude<Kind, "ambiguous"> | null {
  const { code, message } = errorText(err);
  const kind = PATTERNS.find(([re]) => re.test(`${code} ${message}`))?.[1] ?? null;
  return kind === "ambiguous" ? "untrusted" : kind;
}

/** True for a connection reset / broken pipe in any runtime's spelling. */
export function isReset(err: unknown): boolean {
  const { code, message } = errorText(err);
  return RESET.test(`${code} ${message}`);
}

/**
 * Maps a TCP connect failure to CONNECT_FAILED (refused, unreachable and timeouts are temporary).
 *
 * @example
 * connectError({ code: "ECONNREFUSED" }, "127.0.0.1", 25).temporary; // true
 */
export function connectError(err: unknown, host: string, port: number): NetError {
  if (err instanceof NetError) return err;
  const { code, message } = errorText(err);
  const text = `${code} ${message}`;
  const refused = /ECONNREFUSED|ConnectionRefused|refused/i.test(text);
  const dns = /ENOTFOUND|EAI_|getaddrinfo|failed to lookup|Name or service not known/i.test(text);
  const addr = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const message1 = refused
    ? `Could not connect to ${addr}: connection refused.`
    : dns
    ? `Could not resolve "${host}".`
    : `Could not connect to ${addr}: ${message || code}.`;
  return new NetError("CONNECT_FAILED", message1, {
    phase: "connect",
    temporary: !dns,
    detail: [code, message].filter(Boolean).join(": ") || null,
    hint: dns ? "check the relay's host name" : "check host and port, and that the server is running and reachable",
    cause: err,
  });
}
