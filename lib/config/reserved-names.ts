/**
 * Relay names that are also Object.prototype keys. valibot's record() skips `constructor`,
 * `prototype` and `__proto__` (its prototype-pollution guard), which made a relay named
 * `constructor` vanish ("must define at least one relay"). Invariant: every relay name the user
 * wrote is validated and kept under its own name, and relay records have no prototype, so no
 * name reads an inherited value.
 */
import type { ConfigPath, Problem } from "./problem.ts";

/**
 * Relay names that valibot's record() skips as prototype-pollution guards (`constructor`,
 * `prototype`, `__proto__`) are swapped for placeholders before validation and swapped back
 * after, so a relay named `constructor` is a relay like any other. `__proto__` is not a valid
 * relay name (it starts with `_`): that is reported here, at the key.
 *
 * @example const r = hideReservedRelayNames(value, problems); const out = v.parse(Schema, r.value); r.restore(out.relays);
 */
export function hideReservedRelayNames(value: unknown, problems: Problem[]) {
  const identity = {
    value,
    droppedProto: false,
    restore: <T>(relays: Record<string, T>) => nullProto(Object.entries(relays)),
    restorePath: (p: ConfigPath) => p,
  };
  const raw = value as Record<string, unknown>;
  const relays = raw.relays;
  if (!relays || typeof relays !== "object" || Array.isArray(relays)) return identity;
  const names = Object.keys(relays);
  if (!names.some((n) => RESERVED.has(n))) return identity;
  const placeholder = new Map<string, string>();
  const copy: Record<string, unknown> = Object.create(null);
  names.forEach((name, i) => {
    const item = (relays as Record<string, unknown>)[name];
    if (name === "__proto__") {
      problems.push({ severity: "error", path: ["relays", name], atKey: true, message: "is not a valid relay name", got: JSON.stringify(name), hint: "use letters, digits, - and _, starting with a letter or digit" });
      return;
    }
    if (RESERVED.has(name)) {
      let p = `mailplan-reserved-${i}`;
      while (Object.hasOwn(relays, p)) p += "x";
      placeholder.set(p, name);
      copy[p] = item;
    } else copy[name] = item;
  });
  return {
    value: { ...raw, relays: copy },
    droppedProto: names.includes("__proto__"),
    restore: <T>(out: Record<string, T>) => nullProto(Object.entries(out).map(([k, r]) => [placeholder.get(k) ?? k, r] as [string, T])),
    restorePath: (p: ConfigPath) => (p[0] === "relays" && typeof p[1] === "string" && placeholder.has(p[1]) ? ["relays", placeholder.get(p[1])!, ...p.slice(2)] : p),
  };
}

const RESERVED = new Set(["__proto__", "constructor", "prototype"]);

/**
 * A record without a prototype, so no name (`constructor`, `toString`…) ever reads an inherited value.
 *
 * @example nullProto([["constructor", 1]]).toString // undefined
 */
export function nullProto<T>(entries: [string, T][]): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const [k, v] of entries) out[k] = v;
  return out;
}

