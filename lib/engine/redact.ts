/**
 * Hides a secret in text that came from elsewhere (a server's reply may echo what we sent): the
 * raw value, and any base64 token that decodes to something containing it (PLAIN, LOGIN and
 * XOAUTH2 blobs, at any alignment).
 */

const B64_TOKEN = /[A-Za-z0-9+/]{4,}={0,2}/g;

function decodes(token: string, secret: string): boolean {
  for (let shift = 0; shift < 4; shift++) {
    const t = token.slice(shift);
    const usable = t.slice(0, t.length - (t.length % 4));
    if (usable.length < 4) break;
    try {
      if (atob(usable).includes(secret)) return true;
    } catch { /* not base64 at this alignment */ }
  }
  return false;
}

/**
 * `text` with every appearance of `secret` replaced by `***`.
 * @example redactSecret("535 bad AHVzZXIAaHVudGVyMg==", "hunter2") // "535 bad ***"
 */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  const latin1 = Array.from(new TextEncoder().encode(secret), (b) => String.fromCharCode(b)).join("");
  return text.split(secret).join("***").replace(B64_TOKEN, (tok) => (decodes(tok, latin1) ? "***" : tok));
}
