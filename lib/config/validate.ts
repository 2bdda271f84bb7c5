/** Schema validation: a plain value → a typed Config, or every problem at once. */
import * as v from "valibot";
import { Auth, type Config, ConfigSchema, Defaults, HINT_SEP, Relay, type RelayConfig, RelayName, Route, type RouteConfig, Security } from "./schema.ts";
import type { LintInput, RelayRefs } from "./rules.ts";
import { type ConfigPath, formatPath, type Problem, renderValue } from "./problem.ts";
import { unknownKeys, withoutUnknownKeys } from "./unknown-keys.ts";
import { suggestion } from "./suggest.ts";

/** The validated config, or undefined when there is any error; plus all problems found. */
export interface Validated {
  config?: Config;
  /** The relays, routes and defaults that validate whole (what probe may use as they are). */
  partial: LintInput;
  /**
   * What the rules and file checks look at: `partial`, plus relays, routes and defaults with
   * their invalid keys left out (all problems at once). Never used to send or probe.
   */
  lintable: LintInput;
  problems: Problem[];
}

/**
 * Validates a plain value (parsed YAML) against the config schema, collecting every problem.
 * Top-level keys starting with `x-` are free for YAML anchors (`x-common: &common …`) and ignored.
 */
export function validateConfig(input: unknown): Validated {
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    const problem: Problem = { severity: "error", path: [], message: "must be a mapping with version, relays and routes", got: renderValue(input ?? ""), hint: "start from config/mail.yaml, or: version: 1, relays: { … }, routes: [ … ]" };
    const empty: LintInput = { relays: Object.create(null), routes: [] };
    return { partial: empty, lintable: empty, problems: [problem] };
  }
  const value = withoutExtensions(input);
  const problems = unknownKeys(ConfigSchema, value);
  const renamed = hideReservedRelayNames(value, problems);
  const result = v.safeParse(ConfigSchema, renamed.value, { abortEarly: false });
  if (result.success && problems.length === 0) {
    const config = { ...result.output, relays: renamed.restore(result.output.relays) };
    return { config, partial: config, lintable: config, problems };
  }
  const seen = new Set(problems.map((p) => formatPath(p.path)));
  const unknownParents = problems.map((p) => formatPath(p.path.slice(0, -1)));
  for (const issue of result.issues ?? []) {
    const path: ConfigPath = renamed.restorePath((issue.path ?? []).map((item) => item.key as string | number));
    const key = formatPath(path);
    if (issue.type === "strict_object" && issue.expected === "never") continue; // reported by unknownKeys
    if (issue.type === "union" && unknownParents.includes(key)) continue;
    if (seen.has(key)) continue; // one problem per key: the first is the one to fix
    if (renamed.droppedProto && key === "relays" && issue.type === "min_entries") continue; // the bad name is the problem
    seen.add(key);
    problems.push(issueToProblem(issue, path));
  }
  const known = withoutUnknownKeys(ConfigSchema, value);
  return { partial: validParts(known, false), lintable: validParts(known, true), problems };
}

/**
 * Relay names that valibot's record() skips as prototype-pollution guards (`constructor`,
 * `prototype`, `__proto__`) are swapped for placeholders before validation and swapped back
 * after, so a relay named `constructor` is a relay like any other. `__proto__` is not a valid
 * relay name (it starts with `_`): that is reported here, at the key.
 */
function hideReservedRelayNames(value: unknown, problems: Problem[]) {
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

/** A record without a prototype, so no name (`constructor`, `toString`…) ever reads an inherited value. */
function nullProto<T>(entries: [string, T][]): Record<string, T> {
  const out: Record<string, T> = Object.create(null);
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/**
 * The relays, routes and defaults of an invalid config that are valid. With `keys`, down to
 * single keys: a relay with one bad key keeps its other keys (when host and port are valid), so
 * the port and strategy rules and the file checks still look at it.
 */
function validParts(value: unknown, keys: boolean): LintInput {
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

/** What to write for each key the schema requires. */
const REQUIRED_HINTS: Record<string, string> = {
  version: "write version: 1 at the top of the file",
  relays: "for example relays: { primary: { host: smtp.example.com, port: 587 } }",
  routes: "for example routes: [{ name: all, via: [primary] }]",
  host: "for example host: smtp.example.com",
  port: "587 for STARTTLS, 465 for implicit TLS",
  name: "every route needs a name, for example name: alerts",
  via: "list the relays to try in order, for example via: [primary, backup]",
  user: "the login name, for example user: me@example.com",
  password: "for example password: { env: SMTP_PASSWORD }",
  cert: "the client certificate PEM file, relative to the config file",
  key: "the client key PEM file, relative to the config file",
};

function issueToProblem(issue: v.BaseIssue<unknown>, path: ConfigPath): Problem {
  const atKey = issue.path?.at(-1)?.origin === "key";
  const secret = path.some((p) => p === "password");
  const [what, hint] = issue.message.includes(HINT_SEP)
    ? issue.message.split(HINT_SEP)
    : [`must be ${issue.expected ?? "valid"}`, ""];
  if (issue.input === undefined && (!atKey || /object$/.test(issue.type))) {
    const name = String(path.at(-1));
    return { severity: "error", path, atKey: true, message: "is required", hint: REQUIRED_HINTS[name] ?? hint ?? `add ${name}:` };
  }
  let fullHint = hint;
  const key = path.at(-1);
  if (issue.expected === "number" && typeof issue.input === "string" && /^\s*-?\d+(?:\.\d+)?\s*$/.test(issue.input) && typeof key === "string") {
    fullHint = `remove the quotes: ${key}: ${issue.input.trim()} (a number, not a string)`;
  }
  if (issue.type === "picklist" && typeof issue.input === "string") {
    const options = [...(issue.expected ?? "").matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    const s = suggestion(issue.input, options);
    if (s.startsWith("did you mean")) fullHint = s + (hint ? ` (${hint})` : "");
  }
  return {
    severity: "error",
    path,
    atKey,
    message: what,
    got: secret ? (typeof issue.input === "string" ? "a string" : renderValue(issue.input)) : renderValue(issue.input),
    hint: fullHint || undefined,
  };
}

function withoutExtensions(value: unknown): unknown {
  if (!value || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith("x-")));
}
