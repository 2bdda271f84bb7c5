/** Test helpers for tests/message: byte/string conversion and small independent decoders. */
import { Buffer } from "node:buffer";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Unfolds a header block and returns the value of the first `name` field. */
export function headerValue(block: string, name: string): string | undefined {
  const unfolded = block.split("\r\n\r\n")[0].replace(/\r\n(?=[ \t])/g, "");
  const line = unfolded.split("\r\n").find((l) => l.toLowerCase().startsWith(name.toLowerCase() + ":"));
  return line?.slice(name.length + 1).replace(/^ /, "");
}

/** Decodes RFC 2047 encoded-words; each word must be whole UTF-8 characters (fatal decoder). */
export function decodeWords(value: string): string {
  const joined = value.replace(/(\?=)[ \t]+(?==\?)/g, "$1");
  return joined.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_m, mode: string, text: string) => {
    let bytes: Uint8Array;
    if (mode.toUpperCase() === "B") bytes = new Uint8Array(Buffer.from(text, "base64"));
    else {
      const out: number[] = [];
      for (let i = 0; i < text.length; i++) {
        if (text[i] === "_") out.push(0x20);
        else if (text[i] === "=") {
          out.push(parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else out.push(text.charCodeAt(i));
      }
      bytes = new Uint8Array(out);
    }
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  });
}

/** Decodes quoted-printable text (soft breaks removed, =XX to bytes). */
export function decodeQp(text: string): Uint8Array {
  const s = text.replace(/=\r\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "=") {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i));
  }
  return new Uint8Array(out);
}

/** Every physical line of `text` (CRLF-separated) fits `limit` octets. */
export function maxLineOctets(text: string): number {
  return Math.max(...text.split("\r\n").map((l) => enc(l).length));
}

/** Splits a multipart body on `boundary`, returning the parts (header + body text each). */
export function splitMultipart(body: string, boundary: string): string[] {
  const close = `\r\n--${boundary}--`;
  const end = body.indexOf(close);
  if (end < 0) throw new Error("no close delimiter");
  const start = body.indexOf(`--${boundary}\r\n`);
  return body.slice(start + boundary.length + 4, end).split(`\r\n--${boundary}\r\n`);
}
