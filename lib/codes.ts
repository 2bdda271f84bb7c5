/**
 * The contract's error codes and their exit statuses (docs/contract.md, "Error codes and
 * exit status"). Every failure mailplan reports carries exactly one of these codes.
 */
export const EXIT_CODES = {
  USAGE: 64,
  CONFIG_INVALID: 78,
  NO_ROUTE: 78,
  MESSAGE_INVALID: 65,
  CONNECT_FAILED: 69,
  TIMEOUT: 75,
  TLS_MODE_MISMATCH: 76,
  STARTTLS_UNAVAILABLE: 76,
  STARTTLS_REFUSED: 76,
  STARTTLS_INJECTION: 76,
  TLS_HANDSHAKE_FAILED: 76,
  TLS_VERSION_TOO_LOW: 76,
  CERT_UNTRUSTED: 76,
  CERT_EXPIRED: 76,
  CERT_HOSTNAME_MISMATCH: 76,
  CERT_PIN_MISMATCH: 76,
  AUTH_UNAVAILABLE: 77,
  AUTH_FAILED: 77,
  PROTOCOL_ERROR: 76,
  TEMPORARY_FAILURE: 75,
  REJECTED: 69,
  RECIPIENTS_REJECTED: 69,
  DELIVERY_UNKNOWN: 75,
} as const;

/** One of the contract's error codes, e.g. `"CONFIG_INVALID"`. */
export type ErrorCode = keyof typeof EXIT_CODES;

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
