/** Schema validation: a plain value → a typed Config, or every problem at once. */
import * as v from "valibot";
import { type Config, ConfigSchema, Defaults, HINT_SEP, Relay, type RelayConfig, Route, type RouteConfig } from "./schema.ts";
import type { LintInput } from "./rules.ts";
import { type ConfigPath, formatPath, type Problem, renderValue } from "./problem.ts";
import { unknownKeys, withoutUnknownKeys } from "./unknown-keys.ts";
import { suggestion } from "./suggest.ts";

/** The validated config, or undefined when there is any error; plus all problems found. */
export interface Validated {
  config?: Config;
  /** The parts that did validate, so the compile-time rules can still look at them. */
  partial: LintInput;
  problems: Problem[];
}

/**
 * Validates a plain value (parsed YAML) against the config schema, collecting every problem.
 * Top-level keys starting with `x-` are free for YAML anchors (`x-common: &common …`) and ignored.
 */
export function validateConfig(input: unknown): Validated {
  if (!input || typeof input !== "object" || Array.isArray(input)) {
    const problem: Problem = { severity: "error", path: [], message: "must be a mapping with version, relays and routes", got: renderValue(input ?? ""), hint: "start from config/mail.yaml, or: version: 1, relays: { … }, routes: [ … ]" };
    return { partial: { relays: {}, routes: [] }, problems: [problem] };
  }
  const value = withoutExtensions(input);
  const problems = unknownKeys(ConfigSchema, value);
  const result = v.safeParse(ConfigSchema, value, { abortEarly: false });
  if (result.success && problems.length === 0) return { config: result.output, partial: result.output, problems };
  const seen = new Set(problems.map((p) => formatPath(p.path)));
  const unknownParents = problems.map((p) => formatPath(p.path.slice(0, -1)));
  for (const issue of result.issues ?? []) {
    const path: ConfigPath = (issue.path ?? []).map((item) => item.key as string | number);
    const key = formatPath(path);
    if (issue.type === "strict_object" && issue.expected === "never") continue; // reported by unknownKeys
    if (issue.type === "union" && unknownParents.includes(key)) continue;
    if (seen.has(key)) continue; // one problem per key: the first is the one to fix
    seen.add(key);
    problems.push(issueToProblem(issue, path));
  }
  return { partial: validParts(withoutUnknownKeys(ConfigSchema, value)), problems };
}

/** The relays, routes and defaults of an invalid config that are valid on their own. */
function validParts(value: unknown): LintInput {
  const raw = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  const relaysRaw = raw.relays && typeof raw.relays === "object" && !Array.isArray(raw.relays) ? raw.relays as Record<string, unknown> : {};
  const relays: Record<string, RelayConfig> = {};
  for (const [name, relay] of Object.entries(relaysRaw)) {
    const r = v.safeParse(Relay, relay);
    if (r.success) relays[name] = r.output;
  }
  const routes = Array.isArray(raw.routes)
    ? raw.routes.map((route): RouteConfig | null => {
      const r = v.safeParse(Route, route);
      return r.success ? r.output : null;
    })
    : [];
  const d = v.safeParse(Defaults, raw.defaults);
  return { defaults: d.success ? d.output : undefined, relays, routes, relayNames: Object.keys(relaysRaw) };
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
