const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** The accepted duration syntax: one or more `<number><unit>` parts, e.g. `10s`, `1m30s`, `500ms`. */
export const DURATION_RE = /^(?:\d+(?:ms|s|m|h))+$/;

/**
 * Parses a duration like `10s`, `2m` or `1h30m` into milliseconds; undefined if malformed.
 *
 * @example parseDuration("1m30s") // 90000
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total;
}
