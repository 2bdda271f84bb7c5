/**
 * Property: any valid config, written out as YAML in any style and loaded back, compiles to the
 * same plans (all routes, and random envelopes) — byte for byte in JSON. Seeded, so a failure
 * names the seed that reproduces it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { parseConfig } from "../lib/config/load.ts";
import { formatProblem } from "../lib/config/problem.ts";
import type { Config } from "../lib/config/schema.ts";
import { compileConfig, planEnvelope } from "../lib/plan/compile.ts";

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const maybe = (p = 0.5) => next() < p;
  return { int, pick, maybe };
}

const DOMAINS = ["example.com", "alerts.example.com", "partner.example", "x.example.org"];
const LOCALS = ["ops", "cron", "a", "b.c", "n+1", "Root"];

function randomConfig(seed: number): Config {
  const r = rng(seed);
  const duration = () => r.pick(["500ms", "1s", "10s", "2m", "1m30s", "1h"]);
  const maybeTimeouts = () =>
    r.maybe(0.3) ? Object.fromEntries(["connect", "greeting", "tls", "command", "data"].filter(() => r.maybe()).map((k) => [k, duration()])) : undefined;
  const maybeRetry = () => (r.maybe(0.3) ? { ...(r.maybe() ? { attempts: r.int(1, 20) } : {}), ...(r.maybe() ? { backoff: duration() } : {}) } : undefined);
  const relays: Config["relays"] = {};
  const relayCount = r.int(1, 6);
  for (let i = 0; i < relayCount; i++) {
    const name = `${r.pick(["primary", "backup", "office", "edge", "r"])}-${i}`;
    const host = r.pick(["smtp.example.com", "127.0.0.1", "mail.corp.example.net", "::1", "localhost"]);
    const kind = r.pick(["starttls", "implicit", "plain", "inferred", "custom"] as const);
    const port = kind === "inferred" ? r.pick([25, 465, 587, 2525]) : kind === "implicit" ? r.pick([465, 2465, 10465]) : kind === "custom" ? r.int(1, 65535) : r.pick([587, 25, 2525, 10025]);
    const strategy = kind === "inferred" ? undefined : kind === "custom" ? r.pick(["starttls", "implicit"] as const) : kind;
    const mismatch = strategy && ((strategy === "implicit" && (port === 587 || port === 25)) || (strategy !== "implicit" && port === 465));
    const effective = strategy ?? (port === 465 ? "implicit" : "starttls");
    const tls = effective === "plain" ? "none" as const : effective === "implicit" ? r.pick(["required", "opportunistic"] as const) : r.pick(["required", "opportunistic", "none"] as const);
    const security: NonNullable<Config["relays"][string]["security"]> = {};
    if (r.maybe(0.7) || tls !== "required") security.tls = tls;
    if (r.maybe(0.3)) security.min_tls = r.pick(["1.2", "1.3"] as const);
    if (r.maybe(0.2)) security.pin = r.maybe() ? `sha256/${"Q".repeat(43)}=` : [`sha256/${"A".repeat(43)}=`, `sha256/${"b".repeat(43)}=`];
    if (r.maybe(0.2)) security.server_name = "mail.example.com";
    if (r.maybe(0.2)) security.ca = "./ca.pem";
    const auth = r.maybe(0.6)
      ? { ...(r.maybe() ? { mechanism: r.pick(["auto", "plain", "login", "xoauth2", "cram-md5"] as const) } : {}), user: r.pick(["me@example.com", "alerts"]), password: r.pick([{ env: "SMTP_PASSWORD" }, { file: "./secret" }, "literal-pw"]) }
      : undefined;
    if (auth && tls === "none") security.allow_plaintext_auth = true;
    relays[name] = {
      host,
      port,
      ...(strategy ? { strategy } : {}),
      ...(mismatch ? { strategy_port_mismatch: "allow" as const } : {}),
      ...(r.maybe(0.3) ? { helo: "client.example.com" } : {}),
      ...(Object.keys(security).length ? { security } : {}),
      ...(maybeTimeouts() ? { timeouts: maybeTimeouts() } : {}),
      ...(maybeRetry() ? { retry: maybeRetry() } : {}),
      ...(auth ? { auth } : {}),
    };
  }
  const names = Object.keys(relays);
  const glob = () => r.pick(["*", `*@${r.pick(DOMAINS)}`, `${r.pick(LOCALS)}@*`, `?${r.pick(LOCALS)}@*.example`, `*@*.${r.pick(DOMAINS)}`]);
  const routes = Array.from({ length: r.int(1, 5) }, (_, i) => {
    const via = names.filter(() => r.maybe(0.5));
    const match = r.maybe(0.8) ? { ...(r.maybe() ? { from: r.maybe() ? glob() : [glob(), glob()] } : {}), ...(r.maybe() ? { to: r.maybe() ? glob() : [glob(), glob()] } : {}) } : undefined;
    return { name: `route-${i}`, ...(match ? { match } : {}), via: via.length ? via : [r.pick(names)] };
  });
  const defaults = r.maybe(0.5) ? { ...(r.maybe() ? { security: { min_tls: r.pick(["1.2", "1.3"] as const) } } : {}), ...(r.maybe() ? { timeouts: { connect: duration() } } : {}) } : undefined;
  return { version: 1, ...(defaults ? { defaults } : {}), relays, routes } as Config;
}

function randomEnvelope(seed: number) {
  const r = rng(seed * 7919);
  const addr = () => `${r.pick(LOCALS)}@${r.pick(DOMAINS)}`;
  return { from: addr(), to: Array.from({ length: r.int(1, 4) }, addr) };
}

test("valid configs round-trip through YAML (any style) to byte-identical plans", () => {
  const SEEDS = 300;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const config = randomConfig(seed);
    const r = rng(seed);
    const yaml = stringify(config, {
      collectionStyle: r.pick(["any", "block", "flow"] as const),
      defaultStringType: r.pick(["PLAIN", "QUOTE_DOUBLE", "QUOTE_SINGLE"] as const),
      indent: r.int(2, 4),
    });
    const loaded = parseConfig(yaml, `seed-${seed}.yaml`);
    assert.ok(loaded.config, `seed ${seed}:\n${loaded.problems.map(formatProblem).join("\n")}\n${yaml}`);
    assert.equal(JSON.stringify(compileConfig(loaded.config)), JSON.stringify(compileConfig(config)), `seed ${seed}`);
    const envelope = randomEnvelope(seed);
    const plan = (c: Config) => {
      try {
        return JSON.stringify(planEnvelope(c, envelope));
      } catch (e) {
        return `error ${(e as { code?: string }).code}: ${(e as Error).message}`;
      }
    };
    assert.equal(plan(loaded.config), plan(config), `seed ${seed}`);
  }
});

test("the generator covers what the property claims to cover", () => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 300; seed++) {
    const plan = compileConfig(randomConfig(seed));
    for (const relay of Object.values(plan.relays)) {
      seen.add(`strategy:${relay.strategy}`).add(`from:${relay.strategy_from}`).add(`tls:${relay.security.tls}`);
      if (relay.auth) seen.add(`secret:${Object.keys(relay.auth.password)[0]}`);
    }
    for (const route of plan.routes) seen.add(route.match.from || route.match.to ? "route:match" : "route:all");
    try {
      seen.add(`envelope:${planEnvelope(randomConfig(seed), randomEnvelope(seed)).transactions.length > 1 ? "split" : "single"}`);
    } catch {
      seen.add("envelope:no-route");
    }
  }
  for (const want of ["strategy:starttls", "strategy:implicit", "strategy:plain", "from:port", "from:config", "tls:required", "tls:opportunistic", "tls:none", "secret:env", "secret:file", "secret:literal", "route:match", "route:all", "envelope:split", "envelope:single", "envelope:no-route"]) {
    assert.ok(seen.has(want), `generator never produced ${want}`);
  }
});
