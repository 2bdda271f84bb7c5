/** Edit distance between two short strings, counting a swap of neighbours as one edit (OSA). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The closest candidate to `word`, if it is close enough to be a likely typo.
 *
 * @example closest("prot", ["host", "port"]) // "port" (a swap is one edit)
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(word.length / 3)) && bestD < word.length ? best : undefined;
}

/** `did you mean "x"?` when there is a close candidate, else a list of what is allowed. */
export function suggestion(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  if (c !== undefined) return `did you mean "${c}"?`;
  return candidates.length ? `expected one of: ${candidates.join(", ")}` : "";
}
