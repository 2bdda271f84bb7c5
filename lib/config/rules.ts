/**
 * The compile-time rules: everything wrong with a schema-valid config that the schema alone
 * cannot see — references between routes and relays, address patterns, and the security
 * contradictions that would otherwise surface only at run time (the seed failures).
 */
import type { Config, RelayConfig, RouteConfig } from "./schema.ts";
import type { ConfigPath, Problem } from "./problem.ts";
import { suggestion } from "./suggest.ts";
import { globProblem } from "./glob.ts";
import { BUILTIN, effectiveStrategy } from "./defaults.ts";
import { isLoopback, plaintextAuthAllowed } from "./host.ts";

/**
 * What the rules look at: a valid config, or the valid parts of an invalid one (routes that did
 * not validate are null; `relayNames` lists every relay key, valid or not, so a reference to a
 * broken relay is not reported as unknown).
 */
export interface LintInput {
  defaults?: Config["defaults"];
  relays: Record<string, RelayConfig>;
  /**
   * The `security` and `auth` blocks of every relay, even one whose host or port is broken
   * (their own valid keys only): the password rule and the file checks look at these, so a type
   * error elsewhere in a relay does not hide them. Defaults to `relays`.
   */
  refs?: Record<string, RelayRefs>;
  routes: readonly (RouteConfig | null)[];
  relayNames?: readonly string[];
}

/** Every semantic problem (errors and warnings) of a config, or of the valid parts of one. */
export function lintConfig(config: LintInput): Problem[] {
  const out: Problem[] = [];
  for (const [name, relay] of Object.entries(config.relays)) relayRules(name, relay, config, out);
  const refs = config.refs ?? config.relays;
  for (const name of Object.keys(refs)) passwordRules(name, refs[name], out);
  routeRules(config, out);
  return out;
}

/** The parts of a relay that name files and secrets. */
export type RelayRefs = Partial<Pick<RelayConfig, "security" | "auth">>;

/**
 * A literal password is warned about; one that looks like `$VAR` or `${VAR}` is an error
 * (nothing expands it). Only upper-case names count as variables (the environment's
 * convention), so a real password such as `$ecret9` is never echoed back as a variable name.
 */
function passwordRules(name: string, refs: RelayRefs, out: Problem[]): void {
  const pw = refs.auth?.password;
  if (typeof pw !== "string") return;
  const path = ["relays", name, "auth", "password"];
  const shellVar = /^\$(?:([A-Z_][A-Z0-9_]*)|\{([A-Z_][A-Z0-9_]*)\})$/.exec(pw.trim());
  if (shellVar) {
    out.push({
      severity: "error",
      path,
      message: "looks like a shell variable, but mailplan does not expand variables: it would log in with that literal text",
      hint: `write password: { env: ${shellVar[1] ?? shellVar[2]} }`,
    });
  } else {
    out.push({ severity: "warning", path, message: "a literal password will end up in git with this file", hint: "use password: { env: SMTP_PASSWORD } or { file: ./secret }" });
  }
}

/** The one-sentence explanation of a strategy that contradicts a well-known port, or undefined. */
export function portMismatch(strategy: string, port: number): string | undefined {
  if (strategy === "implicit" && (port === 587 || port === 25)) {
    return `implicit TLS on ${port} fails with 'wrong version number': port ${port} expects plaintext then STARTTLS; use strategy: starttls or port: 465`;
  }
  if ((strategy === "starttls" || strategy === "plain") && port === 465) {
    return `${strategy === "plain" ? "plaintext SMTP" : "STARTTLS"} on 465 hangs until the greeting times out: port 465 expects TLS from the first byte; use strategy: implicit or port: 587`;
  }
  return undefined;
}

function relayRules(name: string, relay: RelayConfig, config: LintInput, out: Problem[]): void {
  const at = (...path: (string | number)[]): ConfigPath => ["relays", name, ...path];
  const err = (path: ConfigPath, message: string, hint: string, got?: string) => out.push({ severity: "error", path, message, hint, got });
  const warn = (path: ConfigPath, message: string, hint: string) => out.push({ severity: "warning", path, message, hint });

  const strategy = effectiveStrategy(relay);
  if (strategy === undefined) {
    err(at("port"), `port ${relay.port} has no well-known TLS mode, so the strategy cannot be inferred`, "add strategy: starttls (plaintext, then STARTTLS) or strategy: implicit (TLS from the first byte)", String(relay.port));
    return;
  }
  const mismatch = portMismatch(strategy, relay.port);
  if (mismatch && relay.strategy_port_mismatch !== "allow") {
    err(relay.strategy ? at("strategy") : at("port"), mismatch, "if this server really does that, add strategy_port_mismatch: allow to the relay", relay.strategy);
  }

  const sec = { ...BUILTIN.security, ...config.defaults?.security, ...relay.security };
  const secPath = (key: string) => (relay.security && key in relay.security ? at("security", key) : relay.security ? at("security") : at());
  const loopback = isLoopback(relay.host);
  if (strategy === "plain" && sec.tls === "required") {
    err(secPath("tls"), "strategy: plain never starts TLS, but security.tls is required", "use strategy: starttls, or set security.tls: none to send in clear on purpose");
  } else if (strategy === "plain" && sec.tls === "opportunistic") {
    warn(secPath("tls"), "strategy: plain never starts TLS, so tls: opportunistic has no effect", "use strategy: starttls to upgrade when the server offers it");
  } else if (strategy === "implicit" && sec.tls === "none") {
    err(secPath("tls"), "strategy: implicit always speaks TLS, but security.tls is none", "use strategy: plain to send in clear, or remove tls: none");
  } else if (strategy === "starttls" && sec.tls === "none") {
    warn(secPath("tls"), "security.tls: none sends in clear even when the server offers STARTTLS", "use tls: opportunistic to upgrade when offered, or strategy: plain to make clear sending explicit");
  }
  const clear = strategy === "plain" || sec.tls === "none";
  if (relay.auth && clear && !plaintextAuthAllowed({ host: relay.host, strategy, tls: sec.tls, allow_plaintext_auth: sec.allow_plaintext_auth })) {
    err(at("auth"), `auth on a connection that never uses TLS sends the password to ${relay.host} in clear`, "use strategy: starttls or implicit with tls: required, or set security.allow_plaintext_auth: true if the network is trusted");
  }
  if (!sec.verify && !clear && !loopback && !(sec.pin && sec.pin.length)) {
    warn(secPath("verify"), `verify: false without a pin accepts any certificate for ${relay.host}, so anyone on the path can read the mail`, "add security.pin (mailplan probe prints it) or a ca, and keep verify: true");
  }
}

function routeRules(config: LintInput, out: Problem[]): void {
  const relayNames = config.relayNames ?? Object.keys(config.relays);
  const used = new Set<string>();
  const names = new Map<string, number>();
  let catchAll: string | undefined;
  config.routes.forEach((route, i) => {
    if (route === null) return;
    const at = (...p: (string | number)[]): ConfigPath => ["routes", i, ...p];
    const first = names.get(route.name);
    if (first !== undefined) {
      out.push({ severity: "error", path: at("name"), message: `route name "${route.name}" is already used by routes[${first}]`, hint: "give each route its own name" });
    } else names.set(route.name, i);
    if (catchAll !== undefined) {
      out.push({ severity: "warning", path: at(), message: `route "${route.name}" is never used: route "${catchAll}" before it matches all mail`, hint: "first match wins: move the catch-all route last" });
    }
    const m = route.match;
    if (!m || (m.from === undefined && m.to === undefined)) catchAll ??= route.name;
    for (const side of ["from", "to"] as const) {
      const g = m?.[side];
      const list = g === undefined ? [] : typeof g === "string" ? [g] : g;
      list.forEach((glob, j) => {
        const p = globProblem(glob);
        if (p) out.push({ severity: "error", path: typeof g === "string" ? at("match", side) : at("match", side, j), message: `address pattern ${p.message}`, got: JSON.stringify(glob), hint: p.hint });
      });
    }
    const seen = new Set<string>();
    route.via.forEach((relay, j) => {
      if (!relayNames.includes(relay)) {
        out.push({ severity: "error", path: at("via", j), message: `no relay named "${relay}"`, hint: suggestion(relay, relayNames) });
      } else if (seen.has(relay)) {
        out.push({ severity: "error", path: at("via", j), message: `relay "${relay}" is listed twice`, hint: "failover to the same relay again adds nothing: use retry: { attempts } instead" });
      }
      seen.add(relay);
      used.add(relay);
    });
  });
  for (const name of Object.keys(config.relays)) {
    if (!used.has(name)) out.push({ severity: "warning", path: ["relays", name], atKey: true, message: `relay "${name}" is not used by any route`, hint: "add it to a route's via list or remove it" });
  }
}
