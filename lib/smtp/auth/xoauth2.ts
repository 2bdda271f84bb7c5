/** SASL XOAUTH2 (Google/Microsoft). @module */
import { encodeBase64 } from "../base64.ts";
import type { Credentials, SaslClient } from "./types.ts";
import { unexpectedChallenge } from "./unexpected.ts";

/**
 * XOAUTH2: initial response base64("user=U\x01auth=Bearer TOKEN\x01\x01"); the password is the token.
 * A 334 challenge carries a JSON error: it is answered with an empty line so the server sends its 5xx.
 * @example xoauth2({ user: "u", password: "t" }).initial
 */
export function xoauth2(cred: Credentials): SaslClient {
  return {
    name: "XOAUTH2",
    initial: encodeBase64(`user=${cred.user}\x01auth=Bearer ${cred.password}\x01\x01`),
    respond(_challenge, round) {
      if (round === 1) return "";
      throw unexpectedChallenge("XOAUTH2", round);
    },
  };
}
