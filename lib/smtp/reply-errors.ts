/**
 * Turning a server reply into an {@link SmtpError}: 4xx temporary, 5xx permanent, anything else unexpected.
 * @module
 */
import { escapeServerText, type Phase, SmtpError } from "./errors.ts";
import { type Reply, replyClass } from "./reply.ts";

/** The reply as attached to errors. */
export function errorReply(r: Reply): { code: number; enhanced?: string; text: string } {
  return r.enhanced ? { code: r.code, enhanced: r.enhanced, text: r.text } : { code: r.code, text: r.text };
}

/** `550 "text"` with the server text escaped for printing. */
export function showReply(r: Reply): string {
  return `${r.code} "${escapeServerText(r.text.replace(/\n/g, " "), 200)}"`;
}

/**
 * Maps a refusal: 4xx → TEMPORARY_FAILURE (temporary), 5xx → REJECTED, 2xx/3xx → PROTOCOL_ERROR.
 * `what` completes "The server … with 550 "…"", e.g. "refused the sender".
 * @example replyError(reply, "mail", "refused the sender").code // "REJECTED" for a 550
 */
export function replyError(r: Reply, phase: Phase, what: string): SmtpError {
  if (replyClass(r.code) === "transient") {
    return new SmtpError({
      code: "TEMPORARY_FAILURE",
      phase,
      temporary: true,
      message: `The server ${what} with ${showReply(r)}.`,
      hint: r.code === 421
        ? "The server is closing the connection; try again later."
        : "This is a temporary failure; try again later.",
      reply: errorReply(r),
    });
  }
  if (replyClass(r.code) === "permanent") {
    return new SmtpError({
      code: "REJECTED",
      phase,
      message: `The server ${what} with ${showReply(r)}.`,
      hint: "This is a permanent refusal; read the server's text for the reason.",
      reply: errorReply(r),
    });
  }
  return unexpectedReply(r, phase);
}

/** PROTOCOL_ERROR for a well-formed reply that makes no sense at this point. */
export function unexpectedReply(r: Reply, phase: Phase): SmtpError {
  return new SmtpError({
    code: "PROTOCOL_ERROR",
    phase,
    message: `The server sent an unexpected reply ${showReply(r)} during the ${phase} phase.`,
    hint: "The server does not follow the SMTP sequence; check the host and port.",
    reply: errorReply(r),
  });
}
