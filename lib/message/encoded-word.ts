/**
 * RFC 2047 encoded-words (UTF-8, "B" or "Q") for non-ASCII header text: Subject and other
 * unstructured fields, and display names. Words never split a character (nor, when it fits, a
 * grapheme such as an emoji sequence) and stay within the caller's length budget.
 * @module
 */
import { utf8 } from "./utf8.ts";

const OVERHEAD = "=?UTF-8?B?".length + "?=".length; // same for Q
const HEX = "0123456789ABCDEF";

/** Bytes Q may leave as they are; the set RFC 2047 §5(3) allows even inside a display name. */
function qSafe(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
    b === 0x21 || b === 0x2a || b === 0x2b || b === 0x2d || b === 0x2f;
}

function qText(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    if (qSafe(b)) s += String.fromCharCode(b);
    else if (b === 0x20) s += "_";
    else s += "=" + HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}

function qLength(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) n += qSafe(b) || b === 0x20 ? 1 : 3;
  return n;
}

const bLength = (n: number) => Math.ceil(n / 3) * 4;

function bText(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Grapheme clusters when Intl.Segmenter exists, else code points. */
function pieces(text: string): string[] {
  const Seg = (Intl as unknown as { Segmenter?: new (l?: string, o?: object) => { segment(s: string): Iterable<{ segment: string }> } }).Segmenter;
  if (!Seg) return [...text];
  return [...new Seg(undefined, { granularity: "grapheme" }).segment(text)].map((s) => s.segment);
}

/**
 * Encodes `text` as a list of encoded-words, each at most `firstMax` (the first) or `restMax`
 * (the others) characters long; join them with a space (decoders drop whitespace between
 * adjacent encoded-words). Q is chosen when it is not longer than B for the whole text.
 * @example encodeWords("Café ouvert") // ["=?UTF-8?Q?Caf=C3=A9_ouvert?="]
 */
export function encodeWords(text: string, firstMax = 75, restMax = 75): string[] {
  const all = utf8(text);
  const mode = qLength(all) <= bLength(all.length) ? "Q" : "B";
  const len = (bytes: Uint8Array) => OVERHEAD + (mode === "Q" ? qLength(bytes) : bLength(bytes.length));
  const emit = (bytes: Uint8Array) => `=?UTF-8?${mode}?${mode === "Q" ? qText(bytes) : bText(bytes)}?=`;

  // Split graphemes that alone exceed the budget into code points.
  const units: Uint8Array[] = [];
  for (const p of pieces(text)) {
    const bytes = utf8(p);
    if (len(bytes) <= Math.min(firstMax, restMax)) units.push(bytes);
    else for (const cp of p) units.push(utf8(cp));
  }

  const words: string[] = [];
  let cur: number[] = [];
  for (const u of units) {
    const max = words.length === 0 ? firstMax : restMax;
    const next = new Uint8Array(cur.length + u.length);
    next.set(cur);
    next.set(u, cur.length);
    if (cur.length > 0 && len(next) > max) {
      words.push(emit(new Uint8Array(cur)));
      cur = [...u];
    } else {
      cur = [...next];
    }
  }
  if (cur.length > 0 || words.length === 0) words.push(emit(new Uint8Array(cur)));
  return words;
}
