import { escapeText } from "../text/escape.ts";

/** A key path into the config document, e.g. `["relays", "primary", "port"]`. */
export type ConfigPath = readonly (string | number)[];

/**
 * One thing wrong (or worth a warning) in a config file, located in the source when possible.
 * `got` is a short, safe rendering of the offending value (never a secret).
 */
export interface Problem {
  severity: "error" | "warning";
  path: ConfigPath;
  message: string;
  got?: string;
  hint?: string;
  /** Point at the key itself rather than its value (unknown keys, missing keys). */
  atKey?: boolean;
  file?: string;
  line?: number;
  col?: number;
}

/** Renders a path the way users write it: `relays.primary.port`, `routes[0].via[1]`. */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += (out ? "." : "") + (/^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg));
  }
  return out || "(top level)";
}

/**
 * Renders one problem as `FILE:LINE:COL path.to.key: what is wrong (got X); hint`, with
 * `warning: ` before the message for warnings. Every part goes through escapeText: key names,
 * values and file names come from the user's file (or a pull request's), so no control
 * character, C1 or bidi override reaches the terminal, and the result is always one line.
 */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${escapeText(p.file)}:${p.line ?? 1}:${p.col ?? 1} ` : "";
  const sev = p.severity === "warning" ? "warning: " : "";
  const got = p.got !== undefined ? ` (got ${escapeText(p.got)})` : "";
  const hint = p.hint ? `; ${escapeText(p.hint)}` : "";
  return `${where}${escapeText(formatPath(p.path))}: ${sev}${escapeText(p.message)}${got}${hint}`;
}

/** Problems as plain data for `--json` output, keys in a fixed order. */
export function problemToJson(p: Problem): Record<string, unknown> {
  return {
    severity: p.severity,
    file: p.file ?? null,
    line: p.line ?? null,
    col: p.col ?? null,
    path: formatPath(p.path),
    message: p.message,
    got: p.got ?? null,
    hint: p.hint ?? null,
  };
}

/** Sorts problems by position, then path, so output is stable whatever order checks ran in. */
export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) =>
    (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) ||
    formatPath(a.path).localeCompare(formatPath(b.path)) || a.message.localeCompare(b.message)
  );
}

/** Renders a user value for `(got X)`: short, quoted, control characters escaped. */
export function renderValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  const s = typeof value === "string" ? JSON.stringify(value) : String(value);
  return s.length > 60 ? s.slice(0, 57) + "…" : s;
}
