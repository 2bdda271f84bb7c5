/** SASL LOGIN (draft-murchison-sasl-login). @module */
import { encodeBase64 } from "../base64.ts";
import type { Credentials, SaslClient } from "./types.ts";
import { unexpectedChallenge } from "./unexpected.ts";

const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * LOGIN: answers a "Username:" prompt with the user and a "Password:" prompt with the password;
 * other prompts are answered by position (1st user, 2nd password), a 3rd unknown one is an error.
 * @example login(cred).respond(new TextEncoder().encode("Username:"), 1) // base64 of the user
 */
export function login(cred: Credentials): SaslClient {
  return {
    name: "LOGIN",
    respond(challenge, round) {
      const prompt = decoder.decode(challenge).toLowerCase();
      if (prompt.includes("user")) return encodeBase64(cred.user);
      if (prompt.includes("pass")) return encodeBase64(cred.password);
      if (round === 1) return encodeBase64(cred.user);
      if (round === 2) return encodeBase64(cred.password);
      throw unexpectedChallenge("LOGIN", round);
    },
  };
}
