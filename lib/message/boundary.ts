/**
 * MIME multipart boundaries. They start with "=_", which quoted-printable and base64 output can
 * never contain; 7bit/8bit parts are checked by the caller with `avoid`.
 * @module
 */
import { createHash, randomBytes } from "node:crypto";

/**
 * Returns a boundary generator: deterministic from `seed` when given (tests), random otherwise.
 * Each call gives the next boundary, skipping any that occurs in `avoid`.
 * @example const next = boundaries("seed"); next([textBytes]) // "=_mp_3b1f…"
 */
export function boundaries(seed?: string): (avoid?: readonly string[]) => string {
  const base = seed ?? randomBytes(16).toString("hex");
  let n = 0;
  return (avoid = []) => {
    for (;;) {
      const b = "=_mp_" + createHash("sha256").update(`${base}/${n++}`).digest("hex").slice(0, 28);
      if (!avoid.some((text) => text.includes(b))) return b;
    }
  };
}
