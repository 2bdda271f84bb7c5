/** Small UTF-8 helpers shared by the header encoders. @module */

const encoder = new TextEncoder();

/** UTF-8 bytes of `s`. @example utf8("é").length // 2 */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Length of `s` in UTF-8 octets. @example octets("日本") // 6 */
export function octets(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** True when `s` has a character outside US-ASCII. @example isAscii("naïve") // false */
export function isAscii(s: string): boolean {
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/**
 * Decodes UTF-8 strictly; returns null when the bytes are not valid UTF-8.
 * @example decodeUtf8Strict(new Uint8Array([0xff])) // null
 */
export function decodeUtf8Strict(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}
