/** Schema validation: a plain value → a typed Config, or every problem at once. */
import * as v from "valibot";
import { type Config, ConfigSchema, HINT_SEP } from "./schema.ts";
import type { LintInput } from "./rules.ts";
import { hideReservedRelayNames } from "./reserved-names.ts";
import { validParts } from "./valid-parts.ts";
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
