/**
 * The one escaping function for every human output (threat row F9). Text from outside — server
 * replies, config keys and values, addresses, subjects, file names — goes through it before it
 * reaches a terminal, so it can never move the cursor, retitle the window, clear the screen or
 * reorder what the reader sees.
 *
 * Invariants:
 * - The result contains no C0 control (U+0000–U+001F; LF only with {@link escapeLines}), no DEL,
 *   no C1 control (U+0080–U+009F), no bidi control (U+061C, U+200E, U+200F, U+202A–U+202E,
 *   U+2066–U+2069), no line/paragraph separator (U+2028, U+2029), no BOM/zero-width no-break space
 *   (U+FEFF) and no lone surrogate.
 * - C0, DEL and C1 become `\xNN` (two lower-case hex digits, e.g. `\x1b`); the others become
 *   `\u{NNNN}` (e.g. `\u{202e}`). Every escape is visible and names the exact code point.
 * - Escaping is idempotent: `escapeText(escapeText(s)) === escapeText(s)`. A message that already
 *   embeds escaped server text (the SMTP core escapes where it quotes a reply) can be escaped again
 *   at output without growing. For that reason a backslash is NOT doubled: a literal `\x1b` typed
 *   by someone reads the same as an escaped ESC. That is a cosmetic ambiguity only — nothing in the
 *   output can act on the terminal — and it keeps Windows-style paths and hints readable.
 * - Everything else (printable ASCII, letters of every script, emoji) passes unchanged.
 * - This module is the lowest layer after `codes.ts`: it imports nothing.
 * @module
 */

/** True for a code point that must never reach a terminal raw (LF included). */
function isUnsafe(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x061c || cp === 0x200e || cp === 0x200f ||
    cp === 0x2028 || cp === 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0xfeff || (cp >= 0xd800 && cp <= 0xdfff);
}

/** Matches a run of characters that may need escaping (cheap pre-check: most text has none). */
// deno-lint-ignore no-control-regex -- finding control characters is this module's job
const CANDIDATE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]/;

/** The visible form of one unsafe code point: `\x1b` for C0/DEL/C1, `\u{202e}` for the rest. */
function visible(cp: number): string {
  return cp <= 0x9f ? "\\x" + cp.toString(16).padStart(2, "0") : "\\u{" + cp.toString(16) + "}";
}

function escapeWith(s: string, keepNewline: boolean): string {
  if (!CANDIDATE.test(s)) return s;
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out += isUnsafe(cp) && !(keepNewline && cp === 0x0a) ? visible(cp) : ch;
  }
  return out;
}

/**
 * Escapes text for one line of human output: every control character (newline, CR and tab
 * included), DEL, C1, bidi controls, U+2028/U+2029, U+FEFF and lone surrogates become visible
 * escapes. Use it for anything that came from outside and is printed inside a line.
 * @example
 * escapeText("x\x1b]0;owned\x07") // => "x\\x1b]0;owned\\x07"
 * escapeText("abc\u202edef")       // => "abc\\u{202e}def"
 * escapeText("two\nlines")         // => "two\\x0alines"
 */
export function escapeText(s: string): string {
  return escapeWith(s, false);
}

/**
 * Like {@link escapeText} but keeps LF (`\n`) as a line break, for multi-line output (a plan, a
 * probe report, a list). Everything else is escaped exactly as escapeText does; a CR is still
 * escaped, so no line can overwrite another.
 * @example
 * escapeLines("a\nb\x1b[2J") // => "a\nb\\x1b[2J"
 * escapeLines("a\r\nb")      // => "a\\x0d\nb"
 */
export function escapeLines(s: string): string {
  return escapeWith(s, true);
}

/**
 * {@link escapeText} of at most `max` characters (code points) of `s`, with "…" when it was cut.
 * For text from a server quoted inside a message.
 * @example
 * escapeTextCapped("abcdef", 3) // => "abc…"
 */
export function escapeTextCapped(s: string, max: number): string {
  let kept = "";
  let n = 0;
  for (const ch of s) {
    if (n >= max) return escapeText(kept) + "…";
    kept += ch;
    n++;
  }
  return escapeText(kept);
}
