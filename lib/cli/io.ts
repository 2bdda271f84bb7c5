import { escapeText } from "../text/escape.ts";

/** Where the CLI writes, so commands run the same in-process (tests) and as a program. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

/**
 * Escapes text from outside for one line of human output; the same rules as every other output
 * ({@link escapeText} in lib/text/escape.ts: C0 incl. newline, DEL, C1, bidi controls).
 * @example safeText("x\x1b[2J") // => "x\\x1b[2J"
 */
export function safeText(text: string): string {
  return escapeText(text);
}
