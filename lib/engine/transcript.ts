/**
 * The swaks-style conversation: `->` sent and `<-` received in clear, `~>` and `<~` over TLS,
 * `**` for the engine's own notes. AUTH payloads arrive already redacted from the session; the
 * body is summarised, never copied. Server text is escaped before it is stored.
 */
import { escapeServerText } from "../smtp/errors.ts";
import { redactSecret } from "./redact.ts";

/** One line of a transcript. */
export interface TranscriptLine {
  dir: "->" | "<-" | "~>" | "<~" | "**";
  text: string;
  /** Milliseconds since the transcript began (for timing, not printed). */
  at: number;
}

const decoder = new TextDecoder();

/** Collects the conversation of one or more attempts. */
export class Transcript {
  readonly lines: TranscriptLine[] = [];
  private readonly start = performance.now();
  /** Receives each line as it happens (e.g. `--verbose` to stderr). */
  onLine?: (line: TranscriptLine) => void;
  /** Secrets hidden from every line, even when a server echoes them back. */
  readonly secrets = new Set<string>();

  private add(dir: TranscriptLine["dir"], raw: string): void {
    let text = raw;
    for (const s of this.secrets) text = redactSecret(text, s);
    const line = { dir, text, at: performance.now() - this.start };
    this.lines.push(line);
    this.onLine?.(line);
  }

  /** Bytes we sent (or their redacted form), one entry per CRLF line. */
  sent(bytes: Uint8Array | string, secure: boolean): void {
    const text = typeof bytes === "string" ? bytes : decoder.decode(bytes);
    for (const l of text.split("\r\n").filter((l) => l !== "")) this.add(secure ? "~>" : "->", escapeServerText(l, 1000));
  }

  /** Bytes the server sent, one entry per line. */
  received(bytes: Uint8Array, secure: boolean): void {
    for (const l of decoder.decode(bytes).split(/\r?\n/).filter((l) => l !== "")) this.add(secure ? "<~" : "<-", escapeServerText(l, 1000));
  }

  /** An engine note: connecting, TLS established, body sent, failure. */
  note(text: string): void {
    this.add("**", escapeServerText(text, 1000));
  }

  /** The transcript as text, a line each. */
  toString(): string {
    return this.lines.map((l) => `${l.dir} ${l.text}`).join("\n") + (this.lines.length ? "\n" : "");
  }
}
