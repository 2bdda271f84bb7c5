/**
 * Address globs used in `routes[].match`: `*` matches any run of characters (also none), `?` one
 * character; everything else is literal. Matching is case-insensitive and covers the whole
 * address, so a glob names a local part and a domain: `*@example.com`, `alerts@*`, or `*`.
 */
export type Glob = string;

/** Why a glob is not usable, or undefined when it is fine. */
export function globProblem(glob: string): { message: string; hint: string } | undefined {
  if (glob.length === 0) return { message: "is an empty pattern", hint: 'use "*" to match every address' };
  // deno-lint-ignore no-control-regex -- control characters are what this rejects
  if (/[\s<>,;]/.test(glob) || /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(glob)) {
    return { message: "contains a space, control character or one of < > , ;", hint: "write one address pattern per list item" };
  }
  if (glob !== "*" && !glob.includes("@")) {
    return {
      message: "matches whole addresses, so it needs an @",
      hint: `did you mean "*@${glob.replace(/^\*\.?/, "")}"?`,
    };
  }
  return undefined;
}

/** The result of one match, with the work it took (for tests that bound the cost). */
export interface GlobMatch {
  matched: boolean;
  /** Comparison steps taken; never more than (pattern length + 1) × (text length + 1). */
  steps: number;
}

/**
 * Matches a whole address against a glob, case-insensitively, in O(pattern × text) steps at
 * worst (two pointers; on a mismatch only the most recent `*` is widened, so no backtracking
 * explosion whatever the pattern: threat F8). No RegExp is built from the pattern.
 *
 * @example globMatch("*@Example.com", "ops@example.COM").matched // true
 */
export function globMatch(glob: Glob, text: string): GlobMatch {
  return matchChars([...glob.toLowerCase()], text);
}

/** The two-pointer walk over a pattern already split into lower-case characters. */
function matchChars(p: readonly string[], text: string): GlobMatch {
  const t = [...text.toLowerCase()];
  let i = 0; // position in t
  let j = 0; // position in p
  let star = -1; // index in p of the last `*` seen
  let mark = 0; // position in t where that `*` started matching
  let steps = 0;
  while (i < t.length) {
    steps++;
    if (j < p.length && (p[j] === "?" || (p[j] !== "*" && p[j] === t[i]))) {
      i++;
      j++;
    } else if (j < p.length && p[j] === "*") {
      star = j++;
      mark = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++mark;
    } else {
      return { matched: false, steps };
    }
  }
  while (j < p.length && p[j] === "*") {
    steps++;
    j++;
  }
  return { matched: j === p.length, steps };
}

/**
 * A compiled glob: a predicate over whole addresses (see globMatch).
 *
 * @example compileGlob("alerts@*")("ALERTS@example.org") // true
 */
export function compileGlob(glob: Glob): (address: string) => boolean {
  const p = [...glob.toLowerCase()];
  return (address) => matchChars(p, address).matched;
}
