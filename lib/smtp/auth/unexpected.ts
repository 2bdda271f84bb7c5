/** Shared error for a challenge a mechanism did not expect. @module */
import { SmtpError } from "../errors.ts";

/** PROTOCOL_ERROR for challenge `round` that `mechanism` has no answer to. */
export function unexpectedChallenge(mechanism: string, round: number): SmtpError {
  return new SmtpError({
    code: "PROTOCOL_ERROR",
    phase: "auth",
    message: `The server sent an unexpected AUTH ${mechanism} challenge (round ${round}).`,
    hint: "The server does not follow the SASL exchange; try another `auth.mechanism`.",
  });
}
