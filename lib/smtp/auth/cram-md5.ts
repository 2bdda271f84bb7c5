/** SASL CRAM-MD5 (RFC 2195). @module */
import { createHmac } from "node:crypto";
import { encodeBase64 } from "../base64.ts";
import type { Credentials, SaslClient } from "./types.ts";
import { unexpectedChallenge } from "./unexpected.ts";

/**
 * CRAM-MD5: answers the single challenge with base64("user " + hex(HMAC-MD5(password, challenge))).
 * @example
 * // RFC 2195 §2: tim / tanstaaftanstaaf, <1896.697170952@postoffice.reston.mci.net>
 * // => "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
 */
export function cramMd5(cred: Credentials): SaslClient {
  return {
    name: "CRAM-MD5",
    respond(challenge, round) {
      if (round !== 1 || challenge.length === 0) throw unexpectedChallenge("CRAM-MD5", round);
      const digest = createHmac("md5", cred.password).update(challenge).digest("hex");
      return encodeBase64(`${cred.user} ${digest}`);
    },
  };
}
