/**
 * The one table of error codes (docs/contract.md, "Error codes and exit status"): per code its
 * exit status, its meaning (the contract's words), whether it is a security failure, whether it
 * is temporary by default, and whether `mailplan probe` has something to say about it. Every
 * failure mailplan reports carries exactly one of these codes; every list of codes elsewhere is
 * derived from this table (`tests/contract.test.ts` compares it with docs/contract.md).
 *
 * Invariants:
 * - `security: true` means the connection was not safe: no credential and no message byte left
 *   the client in clear, and with `tls: required` such a failure limits failover to relays at
 *   least as strict.
 * - `temporary` is the default of the error's `temporary` flag; a particular failure may say
 *   otherwise (STARTTLS answered 454 or 421 is temporary, a DNS failure to connect is not).
 * - This module imports nothing: it is the lowest layer (lib/README.md).
 * @module
 */

/** What the table says about one code. */
export interface CodeInfo {
  /** Process exit status (sysexits.h). */
  readonly exit: number;
  /** The contract's one-line meaning. */
  readonly meaning: string;
  /** The connection was not safe (certificate, TLS, stripping, auth in clear). */
  readonly security: boolean;
  /** Retrying later may help, unless the failure itself says otherwise. */
  readonly temporary: boolean;
  /** `mailplan probe` explains this failure (the server's TLS) and writes a relay for it. */
  readonly probe: boolean;
}

const row = (exit: number, meaning: string, flags: { security?: true; temporary?: true; probe?: true } = {}): CodeInfo => ({
  exit,
  meaning,
  security: flags.security ?? false,
  temporary: flags.temporary ?? false,
  probe: flags.probe ?? false,
});
const tls = { security: true, probe: true } as const;

/**
 * The table, in the contract's order.
 * @example CODES.CERT_EXPIRED.exit // => 76
 */
export const CODES = {
  USAGE: row(64, "bad command line"),
  CONFIG_INVALID: row(78, "config does not validate or a referenced file/secret is missing"),
  NO_ROUTE: row(78, "no route matches the envelope"),
  MESSAGE_INVALID: row(65, "message or address malformed"),
  CONNECT_FAILED: row(69, "TCP connect refused / unreachable", { temporary: true }),
  TIMEOUT: row(75, "a phase exceeded its timeout (the phase is named)", { temporary: true }),
  TLS_MODE_MISMATCH: row(76, "implicit TLS met a plaintext greeting, or a plaintext client met a TLS server", tls),
  STARTTLS_UNAVAILABLE: row(76, "TLS required but STARTTLS not advertised (possible stripping)", tls),
  STARTTLS_REFUSED: row(76, "STARTTLS answered with anything but 220", tls),
  STARTTLS_INJECTION: row(76, "bytes arrived after the 220 and before the TLS handshake", { security: true }),
  TLS_HANDSHAKE_FAILED: row(76, "handshake failed (protocol, cipher, alert)", tls),
  TLS_VERSION_TOO_LOW: row(76, "negotiated version below min_tls", tls),
  CERT_UNTRUSTED: row(76, "chain does not lead to a trusted CA", tls),
  CERT_EXPIRED: row(76, "certificate outside its validity period", tls),
  CERT_HOSTNAME_MISMATCH: row(76, "certificate does not cover the host / server_name", tls),
  CERT_PIN_MISMATCH: row(76, "SPKI pin does not match", tls),
  AUTH_UNAVAILABLE: row(77, "no usable mechanism, or auth would happen in clear", { security: true }),
  AUTH_FAILED: row(77, "credentials rejected"),
  PROTOCOL_ERROR: row(76, "malformed, oversized or unexpected reply"),
  TEMPORARY_FAILURE: row(75, "4xx after retries (message kept in the outbox where configured)", { temporary: true }),
  REJECTED: row(69, "5xx: permanent refusal (sender, all recipients, or the message)"),
  RECIPIENTS_REJECTED: row(69, "some recipients refused: sent to the accepted ones, both lists in the result"),
  DELIVERY_UNKNOWN: row(75, "the connection ended after the final `.` with no reply: the message may or may not have been accepted"),
} as const satisfies Record<string, CodeInfo>;

/** One of the contract's error codes, e.g. `"CONFIG_INVALID"`. */
export type ErrorCode = keyof typeof CODES;

/** Every code, in the contract's order. */
export const ERROR_CODES: readonly ErrorCode[] = Object.keys(CODES) as ErrorCode[];

/**
 * The exit status of each code (derived from {@link CODES}).
 * @example EXIT_CODES.USAGE // => 64
 */
export const EXIT_CODES: { readonly [K in ErrorCode]: number } = Object.freeze(
  Object.fromEntries(ERROR_CODES.map((c) => [c, CODES[c].exit])) as { [K in ErrorCode]: number },
);

/**
 * True for a string that is one of the contract's codes.
 * @example isErrorCode("CERT_EXPIRED") // => true
 */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(CODES, code);
}

/** The codes of security failures (`security: true` in {@link CODES}). */
export const SECURITY_CODES: ReadonlySet<ErrorCode> = new Set(ERROR_CODES.filter((c) => CODES[c].security));

/** The codes `mailplan probe` explains (`probe: true` in {@link CODES}). */
export const PROBE_CODES: ReadonlySet<ErrorCode> = new Set(ERROR_CODES.filter((c) => CODES[c].probe));

/**
 * True when `code` is a security failure: nothing secret left in clear, failover limited.
 * @example isSecurityCode("CERT_UNTRUSTED") // => true
 */
export function isSecurityCode(code: string): boolean {
  return isErrorCode(code) && CODES[code].security;
}

/**
 * True when `probe` has something to say after a failure with `code`.
 * @example hasProbeHint("TLS_MODE_MISMATCH") // => true
 */
export function hasProbeHint(code: string): boolean {
  return isErrorCode(code) && CODES[code].probe;
}

/**
 * The default of the `temporary` flag for `code` (a failure may override it).
 * @example temporaryByDefault("TIMEOUT") // => true
 */
export function temporaryByDefault(code: ErrorCode): boolean {
  return CODES[code].temporary;
}

/**
 * A failure the user must act on: a contract code, one plain sentence, and a hint saying what
 * to change. The CLI prints `message` and `hint`, never a stack trace.
 *
 * @example throw new MailplanError("USAGE", "Unknown command \"sned\".", "Did you mean \"send\"?")
 */
export class MailplanError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  constructor(code: ErrorCode, message: string, hint = "") {
    super(message);
    this.name = "MailplanError";
    this.code = code;
    this.hint = hint;
  }
  /** The process exit status the contract assigns to this error's code. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}
