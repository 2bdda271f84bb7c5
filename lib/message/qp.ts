/**
 * Quoted-printable (RFC 2045 §6.7) for text bodies: encoded lines at most 76 characters with soft
 * breaks, "=" and non-printable bytes as =XX, whitespace at the end of a line encoded.
 * @module
 */

const HEX = "0123456789ABCDEF";
const MAX = 76;

/**
 * Encodes one line (its bytes, without line break) into physical lines joined by soft breaks.
 * @example encodeQpLine(new TextEncoder().encode("a ")) // "a=20"
 */
export function encodeQpLine(bytes: Uint8Array): string {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const last = i === bytes.length - 1;
    let t: string;
    if ((b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last)) t = String.fromCharCode(b);
    else t = "=" + HEX[b >> 4] + HEX[b & 15];
    // Room for the token, plus a soft-break "=" unless this is the line's last token.
    if (cur.length + t.length > (last ? MAX : MAX - 1)) {
      out.push(cur + "=");
      cur = "";
    }
    cur += t;
  }
  out.push(cur);
  return out.join("\r\n");
}

/**
 * Encodes text given as lines of UTF-8 bytes; hard line breaks become CRLF.
 * @example encodeQuotedPrintable([new TextEncoder().encode("café")]) // "caf=C3=A9"
 */
export function encodeQuotedPrintable(lines: readonly Uint8Array[]): string {
  return lines.map(encodeQpLine).join("\r\n");
}
