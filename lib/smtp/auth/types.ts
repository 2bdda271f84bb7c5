/**
 * The shape shared by the SASL mechanisms: an optional initial response, then one step function
 * that answers each server challenge.
 * @module
 */

/** Mechanism names as configured (`auth.mechanism` in the config). */
export type AuthMechanismName = "auto" | "plain" | "login" | "xoauth2" | "cram-md5";

/** Resolved credentials; for XOAUTH2 `password` is the OAuth2 access token. */
export interface Credentials {
  user: string;
  password: string;
}

/** A client-side SASL exchange for one AUTH attempt. */
export interface SaslClient {
  /** Mechanism as sent after AUTH, e.g. "PLAIN". */
  readonly name: string;
  /** Base64 initial response sent with the AUTH command (RFC 4954), or undefined. */
  readonly initial?: string;
  /**
   * Answers challenge number `round` (1-based, decoded from base64) with the base64 response line.
   * Throws a PROTOCOL_ERROR SmtpError when the challenge makes no sense for the mechanism.
   */
  respond(challenge: Uint8Array, round: number): string;
}
