/**
 * The parts of an invalid config that are valid, for the rules and file checks (all problems at
 * once). Invariant: only values that pass their own schema are returned; nothing is guessed.
 */
import * as v from "valibot";
import { Auth, type Config, Defaults, Relay, type RelayConfig, RelayName, Route, type RouteConfig, Security } from "./schema.ts";
import type { LintInput, RelayRefs } from "./rules.ts";

/**
 * The relays, routes and defaults of an invalid config that are valid. With `keys`, down to
 * single keys: a relay with one bad key keeps its other keys (when host and port are valid), so
 * the port and strategy rules and the file checks still look at it.
 *
 * @example validParts({ relays: { a: { host: "h", port: 587, timeouts: { connect: 5 } } } }, true).relays.a // { host: "h", port: 587 }
 */
export function validParts(value: unknown, keys: boolean): LintInput {
  const salvage = keys ? salvageKeys : (schema: v.GenericSchema, value: unknown) => {
    const r = v.safeParse(schema, value);
    return r.success ? r.output : undefined;
  };
  const raw = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const relaysRaw = raw.relays && typeof raw.relays === "object" && !Array.isArray(raw.relays) ? raw.relays as Record<string, unknown> : {};
  const relays: Record<string, RelayConfig> = Object.create(null);
  for (const name of Object.keys(relaysRaw)) {
    if (!v.is(RelayName, name)) continue;
    const r = salvage(Relay, relaysRaw[name]);
    if (r !== undefined) relays[name] = r as RelayConfig;
  }
  const routes = Array.isArray(raw.routes) ? raw.routes.map((route) => (salvage(Route, route) ?? null) as RouteConfig | null) : [];
  const defaults = salvage(Defaults, raw.defaults) as Config["defaults"];
  const input: LintInput = { defaults, relays, routes, relayNames: Object.keys(relaysRaw) };
  if (keys) {
    const refs: Record<string, RelayRefs> = Object.create(null);
    for (const name of Object.keys(relaysRaw)) {
      const raw = relaysRaw[name];
      if (!v.is(RelayName, name) || !raw || typeof raw !== "object") continue;
      const r = raw as Record<string, unknown>;
      const security = salvage(Security, r.security) as RelayRefs["security"];
      const auth = salvage(Auth, r.auth) as RelayRefs["auth"];
      refs[name] = { ...(security ? { security } : {}), ...(auth ? { auth } : {}) };
    }
    input.refs = refs;
  }
  return input;
}

type ObjectLike = v.GenericSchema & { type: string; entries?: Record<string, v.GenericSchema>; wrapped?: v.GenericSchema };

/**
 * The value parsed by `schema`, or for an object schema, the object made of the keys that are
 * valid on their own (recursively) when that still satisfies the schema; else undefined.
 */
function salvageKeys(schema: v.GenericSchema, value: unknown): unknown {
  const whole = v.safeParse(schema, value);
  if (whole.success) return whole.output;
  let s = schema as ObjectLike;
  while (s.wrapped) s = s.wrapped as ObjectLike;
  if (!s.entries || !value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const kept: Record<string, unknown> = {};
  for (const key of Object.keys(s.entries)) {
    if (!Object.hasOwn(value, key)) continue;
    const part = salvageKeys(s.entries[key], (value as Record<string, unknown>)[key]);
    if (part !== undefined) kept[key] = part;
  }
  const again = v.safeParse(schema, kept);
  return again.success ? again.output : undefined;
}

