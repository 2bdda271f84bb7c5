/**
 * The `probe` report: what `probe --json` prints, one JSON object. The shape is stable (fields are
 * only ever added); `lib/probe/README.md` documents it for contract.md.
 *
 * ```jsonc
 * {
 *   "probe": 1,                       // shape version
 *   "ok": false,                      // true when `problems` is empty (exit 0), false otherwise (exit 1)
 *   "host": "smtp.example.com",       // as dialled (IPv6 without brackets)
 *   "name": "smtp.example.com",       // name checked against the certificate (server_name, else host)
 *   "ca": "/etc/mail/ca.pem",         // trust anchors used besides the system store, or null
 *   "relay": { "name": "gmail", "file": "mail.yaml", "host": "…", "port": 587, "strategy": "implicit",
 *              "helo": null, "tls": "required", "min_tls": "1.2", "verify": true, "ca": null, "pin": [],
 *              "server_name": null, "auth": { "mechanism": "auto" } | null } | null,   // with --relay
 *   "ports": [ {
 *     "port": 587,
 *     "mode": "plaintext",            // plaintext | implicit | silent | closed
 *     "detail": "SMTP greeting after 3 ms",
 *     "error": { "code": "CERT_UNTRUSTED", "message": "…" } | null,   // first failure on the port
 *     "greeting": { "code": 220, "text": "mx ESMTP" } | null,
 *     "starttls": { "offered": true, "accepted": true } | null,     // null on implicit/closed ports
 *     "ehlo": { "beforeTls": ["PIPELINING", "STARTTLS", …] | null, "afterTls": […] | null,
 *               "addedByTls": ["AUTH PLAIN LOGIN"], "removedByTls": ["STARTTLS"] },
 *     "service": { "auth": ["PLAIN"], "authBeforeTls": [], "size": 35882577, "pipelining": true,
 *                  "chunking": true, "eightBitMime": true, "smtpUtf8": true, "dsn": true,
 *                  "requireTls": false, "enhancedStatusCodes": true } | null,
 *     "offer": { "suites": [ { "name": "CAMELLIA128-SHA", "version": "TLSv1.2",
 *                "weak": ["no forward secrecy", "CBC with SHA-1", "Camellia, which …"] } ] },  // only after "no cipher in common"
 *     "tls": {
 *       "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
 *       "accepts": { "TLSv1.3": true, "TLSv1.2": true },   // null: not tested
 *       "chain": [ { "subject": "CN=…", "issuer": "CN=…", "subjectAltNames": ["DNS:…"],
 *                    "validFrom": "…Z", "validTo": "…Z", "daysLeft": 63, "selfSigned": false,
 *                    "fingerprint256": "AB:…", "spkiPin": "sha256/…" } ],   // leaf first, as received
 *       "pin": "sha256/…",                                  // the leaf's SPKI pin, ready for security.pin
 *       "name": { "checked": "smtp.example.com", "matches": true },
 *       "trust": { "system": { "trusted": true, "reason": null },
 *                  "ca": { "file": "…", "trusted": false, "reason": "…" } | null },
 *       "chainProblem": "self-signed" | "missing-intermediate" | "expired" | "not-yet-valid" | "untrusted" | null
 *     } | null
 *   } ],
 *   "problems": [ { "code": "TLS_MODE_MISMATCH", "severity": "error", "port": 587,
 *                   "message": "…", "fix": "…" } ],    // severity: error | warning
 *   "notes": [ { "code": "TLS13_UNAVAILABLE", "severity": "info", "port": 587, "message": "…", "fix": null } ],
 *   "suggestion": { "relay": "gmail", "port": 465, "strategy": "implicit", "yaml": "relays:\n  gmail:\n …" } | null
 * }
 * ```
 * @module
 */
import type { ErrorCode } from "../codes.ts";

/** How a port behaves when a client connects. */
export type PortMode = "plaintext" | "implicit" | "silent" | "closed";

/** Problem and note codes: the contract's error codes (lib/codes.ts) plus probe-only ones. */
export type FindingCode =
  | Extract<
    ErrorCode,
    | "CONNECT_FAILED"
    | "TIMEOUT"
    | "PROTOCOL_ERROR"
    | "STARTTLS_UNAVAILABLE"
    | "STARTTLS_REFUSED"
    | "STARTTLS_INJECTION"
    | "TLS_MODE_MISMATCH"
    | "TLS_HANDSHAKE_FAILED"
    | "TLS_VERSION_TOO_LOW"
    | "CERT_UNTRUSTED"
    | "CERT_EXPIRED"
    | "CERT_HOSTNAME_MISMATCH"
    | "CERT_PIN_MISMATCH"
    | "AUTH_UNAVAILABLE"
  >
  | ProbeOnlyCode;

/** Finding codes that are not contract error codes: observations only `probe` makes. */
export type ProbeOnlyCode =
  | "SILENT_PORT"
  | "GREETING_REFUSED"
  | "EHLO_REFUSED"
  | "NO_TLS"
  | "TLS13_UNAVAILABLE"
  | "CERT_SELF_SIGNED"
  | "CERT_MISSING_INTERMEDIATE"
  | "CERT_EXPIRES_SOON"
  | "CERT_SYSTEM_UNTRUSTED"
  | "VERIFY_OFF"
  | "CLEAR_TEXT"
  | "AUTH_ONLY_BEFORE_TLS"
  | "AUTH_BEFORE_TLS"
  | "PORT_DIFFERS";

/** One verdict: what is wrong (or worth knowing) in one or two sentences, and the fix. */
export interface Finding {
  code: FindingCode;
  /** error/warning are problems (exit 1); info is a note. */
  severity: "error" | "warning" | "info";
  /** The port it is about; null for the target as a whole. */
  port: number | null;
  message: string;
  fix: string | null;
}

/** One certificate of the chain, as received. */
export interface CertInfo {
  subject: string;
  issuer: string;
  subjectAltNames: string[];
  validFrom: string;
  validTo: string;
  /** Whole days until `validTo` (negative once expired). */
  daysLeft: number;
  selfSigned: boolean;
  fingerprint256: string;
  spkiPin: string;
}

/** Verification against one set of trust anchors. */
export interface TrustResult {
  trusted: boolean;
  /** Why not, in words (null when trusted). */
  reason: string | null;
}

/** What went wrong with the chain, if anything (first that applies). */
export type ChainProblem = "self-signed" | "missing-intermediate" | "expired" | "not-yet-valid" | "untrusted";

/** TLS facts of one port. */
export interface TlsReport {
  version: string | null;
  cipher: string | null;
  /** Whether a handshake limited to that version succeeded; null when not tested. */
  accepts: { "TLSv1.3": boolean | null; "TLSv1.2": boolean | null };
  chain: CertInfo[];
  /** The leaf's SPKI pin (`sha256/BASE64`), ready to paste into security.pin. */
  pin: string | null;
  name: { checked: string; matches: boolean };
  trust: { system: TrustResult; ca: (TrustResult & { file: string }) | null };
  chainProblem: ChainProblem | null;
}

/** The service extensions that matter for sending. */
export interface ServiceFacts {
  /** SASL mechanisms offered on the connection mailplan would use (after TLS when there is TLS). */
  auth: string[];
  /** SASL mechanisms offered before TLS (plaintext ports only). */
  authBeforeTls: string[];
  /** SIZE limit in bytes, 0 = SIZE without a limit, null = not offered. */
  size: number | null;
  pipelining: boolean;
  chunking: boolean;
  eightBitMime: boolean;
  smtpUtf8: boolean;
  dsn: boolean;
  requireTls: boolean;
  enhancedStatusCodes: boolean;
}

/** Everything learned about one port. */
export interface PortReport {
  port: number;
  mode: PortMode;
  /** How the mode was decided, in words. */
  detail: string;
  /** The first failure on this port (contract code where one applies). */
  error: { code: FindingCode; message: string } | null;
  greeting: { code: number; text: string } | null;
  starttls: { offered: boolean; accepted: boolean | null } | null;
  ehlo: { beforeTls: string[] | null; afterTls: string[] | null; addedByTls: string[]; removedByTls: string[] };
  service: ServiceFacts | null;
  tls: TlsReport | null;
  /** Only when the handshake failed for want of a common cipher: what the server offers instead
   * (TLS ≤ 1.2 suites it picked from a wide list, in its order; offer.ts). Absent otherwise. */
  offer?: { suites: { name: string; version: "TLSv1" | "TLSv1.1" | "TLSv1.2"; weak: string[] }[] };
}

/** The relay of `--config/--relay`, as configured (defaults merged). */
export interface ConfiguredRelay {
  name: string;
  file: string;
  host: string;
  port: number;
  /** As written or implied by the port; null when neither. */
  strategy: "starttls" | "implicit" | "plain" | null;
  strategyPortMismatch: boolean;
  helo: string | null;
  tls: "required" | "opportunistic" | "none";
  min_tls: "1.2" | "1.3";
  verify: boolean;
  /** As written (relative to the config file). */
  ca: string | null;
  /** Absolute path of `ca`. */
  caPath: string | null;
  pin: string[];
  server_name: string | null;
  auth: { mechanism: string; user: string; password: { env: string } | { file: string } | null } | null;
}

/** The relay as the report shows it (no user name, no secret reference). */
export interface ReportedRelay {
  name: string;
  file: string;
  host: string;
  port: number;
  strategy: ConfiguredRelay["strategy"];
  helo: string | null;
  tls: ConfiguredRelay["tls"];
  min_tls: ConfiguredRelay["min_tls"];
  verify: boolean;
  ca: string | null;
  pin: string[];
  server_name: string | null;
  auth: { mechanism: string } | null;
}

/** The suggested relay block. */
export interface Suggestion {
  relay: string;
  port: number;
  strategy: "starttls" | "implicit" | "plain";
  yaml: string;
}

/** The whole report (`probe --json`). */
export interface ProbeReport {
  probe: 1;
  ok: boolean;
  host: string;
  name: string;
  ca: string | null;
  relay: ReportedRelay | null;
  ports: PortReport[];
  problems: Finding[];
  notes: Finding[];
  suggestion: Suggestion | null;
}
