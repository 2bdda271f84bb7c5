/** SASL PLAIN (RFC 4616). @module */
import { encodeBase64 } from "../base64.ts";
import type { Credentials, SaslClient } from "./types.ts";
import { unexpectedChallenge } from "./unexpected.ts";

/**
 * PLAIN with the credentials as initial response: base64("\0user\0password").
 * A server that ignored the initial response and sends an empty challenge gets it once more.
 * @example plain({ user: "u", password: "p" }).initial // "AHUAcA=="
 */
export function plain(cred: Credentials): SaslClient {
  const payload = encodeBase64(`\0${cred.user}\0${cred.password}`);
  return {
    name: "PLAIN",
    initial: payload,
    respond(challenge, round) {
      if (round === 1 && challenge.length === 0) return payload;
      throw unexpectedChallenge("PLAIN", round);
    },
  };
}
