/** Choosing a SASL mechanism from the configured name and what the server offers. @module */
import { escapeServerText, SmtpError } from "../errors.ts";
import { cramMd5 } from "./cram-md5.ts";
import { login } from "./login.ts";
import { plain } from "./plain.ts";
import type { AuthMechanismName, Credentials, SaslClient } from "./types.ts";
import { xoauth2 } from "./xoauth2.ts";

const FACTORIES: Record<Exclude<AuthMechanismName, "auto">, [string, (c: Credentials) => SaslClient]> = {
  "cram-md5": ["CRAM-MD5", cramMd5],
  plain: ["PLAIN", plain],
  login: ["LOGIN", login],
  xoauth2: ["XOAUTH2", xoauth2],
};

/** Preference of `auto`, strongest first; XOAUTH2 is never picked unless asked for. */
export const AUTO_ORDER: readonly Exclude<AuthMechanismName, "auto" | "xoauth2">[] = [
  "cram-md5",
  "plain",
  "login",
];

/**
 * Returns the SASL client for `wanted` among the `offered` mechanisms (upper-case names),
 * or throws AUTH_UNAVAILABLE.
 * @example selectMechanism("auto", ["LOGIN", "PLAIN"], cred).name // "PLAIN"
 */
export function selectMechanism(
  wanted: AuthMechanismName,
  offered: readonly string[],
  cred: Credentials,
): SaslClient {
  const candidates = wanted === "auto" ? AUTO_ORDER : [wanted];
  for (const name of candidates) {
    const entry = FACTORIES[name];
    if (entry && offered.includes(entry[0])) return entry[1](cred);
  }
  const list = offered.length ? offered.join(" ") : "none";
  throw new SmtpError({
    code: "AUTH_UNAVAILABLE",
    phase: "auth",
    message: wanted === "auto"
      ? `The server offers no supported AUTH mechanism (offered: ${escapeServerText(list, 200)}).`
      : `The server does not offer AUTH ${FACTORIES[wanted]?.[0] ?? escapeServerText(String(wanted), 40)} (offered: ${
        escapeServerText(list, 200)
      }).`,
    hint: "Pick an `auth.mechanism` the server offers, or `auto`.",
  });
}
