/** Every failure the engine meets → the contract's `error` object, with a hint that says what to do. */
import { NetError } from "../net/errors.ts";
import { type Phase, SmtpError } from "../smtp/errors.ts";
import { MailplanError } from "../codes.ts";
import { permissionError } from "../permission.ts";
import type { DeliveryError } from "./types.ts";

/** Converts any thrown value into the contract's error object (never a stack trace). */
export function toDeliveryError(e: unknown, phase: Phase): DeliveryError {
  let out: DeliveryError;
  // Deno refused a permission (net, env for a secret, read for a file), perhaps wrapped by the net
  // layer: the command line must change; neither retried nor queued.
  const denied = permissionError(e);
  if (denied) {
    const own = e instanceof NetError ? (e.phase === "starttls" ? "tls" : e.phase) : e instanceof SmtpError ? e.phase : phase;
    out = { code: "USAGE", phase: own, temporary: false, message: denied.message, hint: denied.hint };
  } else if (e instanceof SmtpError) {
    out = e.toJSON();
  } else if (e instanceof NetError) {
    const code = e.code === "CONNECTION_CLOSED" ? "PROTOCOL_ERROR" : e.code;
    out = { code, phase: e.phase === "starttls" ? "tls" : e.phase, temporary: e.temporary, message: e.message, hint: e.hint };
  } else if (e instanceof MailplanError) {
    out = { code: e.code, phase, temporary: false, message: e.message, hint: e.hint };
  } else {
    const m = (e as Error)?.message ?? String(e);
    out = { code: "PROTOCOL_ERROR", phase, temporary: true, message: `Unexpected failure: ${m}.`, hint: "this may be a bug in mailplan; run with --transcript and report it" };
  }
  return out;
}
