/**
 * MINIMAL STAND-IN, to be replaced by the `text` helper's lib/text/escape.ts at merge (same
 * export, same rules for the characters below). The one escaping function for human output:
 * C0 controls (newline and tab included), DEL and C1 become `\xNN`; bidi controls
 * (U+202A–U+202E, U+2066–U+2069) become `\u{NNNN}`. Everything else passes unchanged. Imports
 * nothing (the layer just above codes.ts).
 * @module
 */

// deno-lint-ignore no-control-regex -- these are the characters to escape
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes text for one line of human output.
 *
 * @example escapeText("x\x1b]0;owned\x07") // "x\\x1b]0;owned\\x07"
 * @example escapeText("abc\u202edef") // "abc\\u{202e}def"
 */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const cp = c.codePointAt(0)!;
    return cp <= 0x9f ? "\\x" + cp.toString(16).padStart(2, "0") : "\\u{" + cp.toString(16) + "}";
  });
}
