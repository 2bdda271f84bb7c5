/** Where the CLI writes, so commands run the same in-process (tests) and as a program. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

/** Escapes control characters (ESC, NUL, BEL, …) so text from outside can never drive the terminal. */
export function safeText(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
