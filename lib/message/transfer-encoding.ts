/** Choosing a Content-Transfer-Encoding for a text part (RFC 2045 §6, RFC 6152). @module */

/** The encodings a text part may use. */
export type TextEncoding = "7bit" | "8bit" | "quoted-printable";

/**
 * 7bit when every byte is ASCII without NUL and no line exceeds 998 octets; 8bit when only the
 * ASCII condition fails and `eightBitMime` says the server has 8BITMIME; quoted-printable otherwise.
 * A line ending in a space or tab also forces quoted-printable: transports may strip that
 * whitespace (RFC 2049 §3), quoted-printable protects it as =20 / =09.
 * @example chooseTextEncoding([new TextEncoder().encode("hi")], false) // "7bit"
 */
export function chooseTextEncoding(lines: readonly Uint8Array[], eightBitMime: boolean): TextEncoding {
  let ascii = true;
  for (const line of lines) {
    if (line.length > 998) return "quoted-printable";
    const last = line[line.length - 1];
    if (last === 0x20 || last === 0x09) return "quoted-printable";
    for (const b of line) {
      if (b === 0 || b === 0x0d || b === 0x0a) return "quoted-printable";
      if (b >= 0x80) ascii = false;
    }
  }
  if (ascii) return "7bit";
  return eightBitMime ? "8bit" : "quoted-printable";
}
