/**
 * The errors the session raises on its own account (policy, injection, lost connection), one
 * builder each so the state machine reads as steps. Server text is escaped via `showReply`.
 * @module
 */
import { escapeServerText, type Phase, SmtpError } from "./errors.ts";
import { type Reply, replyClass } from "./reply.ts";
import { errorReply, showReply } from "./reply-errors.ts";
import type { RecipientRejection, SessionOptions } from "./types.ts";

const err = (
  code: SmtpError["code"],
  phase: Phase,
  message: string,
  hint: string,
  r?: Reply,
  temporary = false,
) => new SmtpError({ code, phase, message, hint, temporary, reply: r ? errorReply(r) : undefined });

const INJECTING = "Something between client and server is injecting plaintext; do not trust this path.";
const DUPLICATE =
  "Check whether the message arrived before sending it again; a retry may deliver a duplicate.";

/** Session-level errors. */
export const SessionErrors = {
  /** Bad option combination (thrown by the constructor). */
  plainButRequired: () =>
    err(
      "CONFIG_INVALID",
      "connect",
      "The relay uses strategy plain but its security policy requires TLS.",
      "Use strategy: starttls or implicit, or set security.tls to opportunistic or none.",
    ),
  badPassword: () =>
    err(
      "CONFIG_INVALID",
      "auth",
      "The AUTH password contains a line break or a NUL byte.",
      "Check the secret's source; a trailing newline in a password file is a common cause.",
    ),
  noRecipient: () =>
    err("MESSAGE_INVALID", "rcpt", "The envelope has no recipient.", "Give at least one --to address."),

  /** Implicit TLS session got plaintext before the handshake (M1). */
  plaintextOnImplicit: () =>
    err(
      "TLS_MODE_MISMATCH",
      "tls",
      "The server sent plaintext before the implicit TLS handshake; this port speaks plaintext SMTP, use strategy: starttls.",
      "Use strategy: starttls for this port.",
    ),
  /** Bytes after the 220 to STARTTLS (N6–N8). */
  injectedAfter220: (bytes: number, r?: Reply) =>
    err(
      "STARTTLS_INJECTION",
      "starttls",
      `The server sent ${
        bytes > 0 ? `${bytes} more ` : ""
      }bytes after its 220 reply to STARTTLS, before the TLS handshake.`,
      INJECTING,
      r,
    ),
  injectedBeforeStarttls: () =>
    err(
      "STARTTLS_INJECTION",
      "starttls",
      "The server sent bytes before the STARTTLS command was sent.",
      INJECTING,
    ),
  /** Bytes nobody asked for, at a point where the client is about to send. */
  unsolicited: (phase: Phase, command: string) =>
    err(
      "PROTOCOL_ERROR",
      phase,
      `The server sent data before the ${command} command it would answer.`,
      "The server does not follow the SMTP sequence (or replies are being injected).",
    ),
  afterData354: (r: Reply) =>
    err(
      "PROTOCOL_ERROR",
      "data",
      "The server sent more data right after its 354 reply.",
      "The server does not follow the SMTP sequence (or replies are being injected).",
      r,
    ),

  /** TLS required and STARTTLS missing (N1, N2, N10). */
  noStarttls: () =>
    err(
      "STARTTLS_UNAVAILABLE",
      "ehlo",
      "The server does not advertise STARTTLS and the security policy requires TLS.",
      "Possible STARTTLS stripping, or the server lacks TLS; use another relay or port (465 for implicit TLS).",
    ),
  ehloRefusedTlsRequired: (r: Reply) =>
    err(
      "STARTTLS_UNAVAILABLE",
      "ehlo",
      `The server refused EHLO with ${showReply(r)}, so STARTTLS is unavailable and TLS is required.`,
      "Possible STARTTLS stripping; the client will not fall back to HELO in clear.",
      r,
    ),
  notSecured: (phase: Phase) =>
    err("STARTTLS_UNAVAILABLE", phase, "TLS is required but the session is not secured.", "Report this bug."),
  /** Anything but 220 to STARTTLS (N3–N5); 454 and 421 are temporary. */
  starttlsRefused: (r: Reply) => {
    const temporary = r.code === 454 || r.code === 421;
    return err(
      "STARTTLS_REFUSED",
      "starttls",
      `The server answered STARTTLS with ${showReply(r)} instead of 220.`,
      temporary
        ? "The server cannot start TLS right now; try again later."
        : "The server or something in between refuses TLS; the client will not send in clear.",
      r,
      temporary,
    );
  },
  starttlsMalformed: () =>
    err(
      "STARTTLS_REFUSED",
      "starttls",
      "The server answered STARTTLS with a malformed reply instead of 220.",
      "The server or something in between refuses TLS; the client will not send in clear.",
    ),

  authInClear: () =>
    err(
      "AUTH_UNAVAILABLE",
      "auth",
      "Authentication would happen in clear because the connection is not protected by TLS.",
      "Use a relay with STARTTLS or implicit TLS, or set security.allow_plaintext_auth: true if you accept the risk.",
    ),
  mechanismRefused: (mechanism: string, r: Reply) =>
    err(
      "AUTH_UNAVAILABLE",
      "auth",
      `The server refused AUTH ${mechanism} with ${showReply(r)}.`,
      "Pick another `auth.mechanism`.",
      r,
    ),
  credentialsRejected: (r: Reply) =>
    err(
      "AUTH_FAILED",
      "auth",
      `The server rejected the credentials with ${showReply(r)}.`,
      "Check auth.user and the password (or token).",
      r,
    ),
  tooManyChallenges: (max: number, mechanism: string, r: Reply) =>
    err(
      "AUTH_FAILED",
      "auth",
      `The server sent more than ${max} AUTH ${mechanism} challenges.`,
      "The server keeps the SASL exchange going without end; try another mechanism or contact its operator.",
      r,
    ),
  badChallenge: (r: Reply) =>
    err(
      "PROTOCOL_ERROR",
      "auth",
      `The server sent an AUTH challenge that is not valid base64: ${showReply(r)}.`,
      "The server does not follow RFC 4954.",
      r,
    ),

  tooBig: (size: number, limit: number) =>
    err(
      "REJECTED",
      "mail",
      `The message is ${size} bytes but the server accepts at most ${limit} bytes (SIZE).`,
      "Send a smaller message (fewer or smaller attachments) or use another relay.",
    ),
  no8bitmime: () =>
    err(
      "MESSAGE_INVALID",
      "mail",
      "The message contains 8-bit bytes but the server does not offer 8BITMIME.",
      "Encode the body as quoted-printable or base64, or use a relay that offers 8BITMIME.",
    ),
  noSmtputf8: () =>
    err(
      "MESSAGE_INVALID",
      "mail",
      "The message needs SMTPUTF8 (non-ASCII addresses or headers) but the server does not offer it.",
      "Use ASCII addresses and encoded headers, or a relay that offers SMTPUTF8.",
    ),
  /** Every recipient refused: TEMPORARY_FAILURE when every refusal was 4xx, else REJECTED. */
  allRecipientsRefused: (rejected: readonly RecipientRejection[]) => {
    const temporary = rejected.length > 0 && rejected.every((x) => replyClass(x.code) === "transient");
    const first = temporary ? rejected[0] : rejected.find((x) => replyClass(x.code) === "permanent");
    return new SmtpError({
      code: temporary ? "TEMPORARY_FAILURE" : "REJECTED",
      phase: "rcpt",
      temporary,
      message: `The server refused every recipient (${rejected.length}), so no message was sent.`,
      hint: temporary
        ? "The refusals are temporary; try again later."
        : "See `rejected` for each address and the server's reason.",
      reply: first ? { code: first.code, text: first.text } : undefined,
    });
  },
  /** Success with some recipients refused (attached to the result, not a failure). */
  someRecipientsRefused: (accepted: number, rejected: readonly RecipientRejection[]) => {
    const temporary = rejected.every((x) => replyClass(x.code) === "transient");
    return err(
      "RECIPIENTS_REJECTED",
      "rcpt",
      `The server refused ${rejected.length} of ${
        accepted + rejected.length
      } recipients; the message went to the others.`,
      temporary
        ? "The refusals are temporary; send again to the refused recipients later."
        : "See `rejected` for each refused address and the server's reason.",
      undefined,
      temporary,
    );
  },

  deliveryUnknown: (how: "closed" | "timeout") =>
    err(
      "DELIVERY_UNKNOWN",
      "dot",
      how === "closed"
        ? "The connection ended after the final dot and before the server's reply, so the message may or may not have been accepted."
        : "The server did not answer the final dot in time, so the message may or may not have been accepted.",
      DUPLICATE,
    ),
  handshakeClosed: () =>
    err(
      "TLS_HANDSHAKE_FAILED",
      "tls",
      "The connection ended during the TLS handshake.",
      "The server may not speak TLS on this port, or it refused our TLS parameters.",
    ),
  /** A reply bound that is not a positive whole number (library callers; the config schema checks its own). */
  badLimit: (name: string, value: unknown) =>
    err("CONFIG_INVALID", "connect", `The limit ${name} must be a positive whole number (got ${escapeServerText(String(value), 40)}).`, "Use the defaults, or the limits: block of the config."),
  /** An AUTH mechanism name mailplan does not know. */
  badMechanism: (name: string) =>
    err("CONFIG_INVALID", "auth", `The AUTH mechanism "${escapeServerText(name, 40)}" is not one mailplan speaks.`, "Use auto, plain, login, xoauth2 or cram-md5."),
  /** EOF in the middle of a line: the server sent a line without CRLF (R2). */
  unterminatedLine: (phase: Phase) =>
    err(
      "PROTOCOL_ERROR",
      phase,
      `The server closed the connection in the middle of a line (no CRLF) during the ${phase} phase.`,
      "The server does not speak SMTP correctly on this port; check host and port, or run mailplan probe.",
    ),
  connectionClosed: (phase: Phase) =>
    err(
      "TEMPORARY_FAILURE",
      phase,
      `The server closed the connection during the ${phase} phase.`,
      "Try again later; if it persists, check the server's logs.",
      undefined,
      true,
    ),
  timeout: (phase: Phase, strategy: SessionOptions["strategy"]) =>
    err(
      "TIMEOUT",
      phase,
      `The server did not answer in time during the ${phase} phase.`,
      phase === "greeting" && strategy !== "implicit"
        ? "If this port expects implicit TLS (e.g. 465), use strategy: implicit."
        : "Raise the timeout or check the server.",
      undefined,
      true,
    ),
};
