/**
 * Address globs used in `routes[].match`: `*` matches any run of characters (also none), `?` one
 * character; everything else is literal. Matching is case-insensitive and covers the whole
 * address, so a glob names a local part and a domain: `*@example.com`, `alerts@*`, or `*`.
 */
export type Glob = string;

/** Why a glob is not usable, or undefined when it is fine. */
export function globProblem(glob: string): { message: string; hint: string } | undefined {
  if (glob.length === 0) return { message: "is an empty pattern", hint: 'use "*" to match every address' };
  if (/[\s<>,;]/.test(glob) || /[\x00-\x1f\x7f]/.test(glob)) {
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

/** Compiles a glob into an anchored, case-insensitive RegExp. */
export function globToRegExp(glob: Glob): RegExp {
  let src = "";
  for (const ch of glob) {
    if (ch === "*") src += "[^]*";
    else if (ch === "?") src += "[^]";
    else src += ch.replace(/[.+^${}()|[\]\\\/-]/g, "\\$&");
  }
  return new RegExp(`^${src}$`, "i");
}
