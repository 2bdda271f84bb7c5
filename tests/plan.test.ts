/** The plan compiler: strategy inference, port contradictions, defaults, route matching and splitting, secrets. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseConfig } from "../lib/config/load.ts";
import { formatPath } from "../lib/config/problem.ts";
import type { Config } from "../lib/config/schema.ts";
import { resolveSecret } from "../lib/config/secret.ts";
import { compileConfig, planEnvelope } from "../lib/plan/compile.ts";
import { isLoopback } from "../lib/config/host.ts";

function load(yaml: string): Config {
  const loaded = parseConfig(yaml, "t.yaml");
  assert.ok(loaded.config, loaded.problems.map((p) => `${p.line}:${p.col} ${formatPath(p.path)} ${p.message}`).join("\n"));
  return loaded.config;
}
const errors = (yaml: string) => parseConfig(yaml, "t.yaml").problems.filter((p) => p.severity === "error");
const relayYaml = (fields: string) => `version: 1\nrelays:\n  r: { host: smtp.example.com, ${fields} }\nroutes: [{ name: all, via: [r] }]\n`;

describe("strategy from the port", () => {
  for (const [port, strategy] of [[465, "implicit"], [587, "starttls"], [25, "starttls"], [2525, "starttls"]] as const) {
    test(`port ${port} → ${strategy}`, () => {
      const r = compileConfig(load(relayYaml(`port: ${port}`))).relays.r;
      assert.equal(r.strategy, strategy);
      assert.equal(r.strategy_from, "port");
    });
  }
  test("a written strategy is kept and marked as written", () => {
    const r = compileConfig(load(relayYaml("port: 2526, strategy: implicit"))).relays.r;
    assert.deepEqual([r.strategy, r.strategy_from], ["implicit", "config"]);
  });
  test("any other port without a strategy is an error asking to state it", () => {
    const [e] = errors(relayYaml("port: 10025"));
    assert.equal(formatPath(e.path), "relays.r.port");
    assert.match(e.message, /port 10025 has no well-known TLS mode/);
    assert.match(e.hint!, /strategy: starttls .* strategy: implicit/);
  });
});

describe("strategy that contradicts a well-known port", () => {
  const cases = [
    ["port: 587, strategy: implicit", /implicit TLS on 587 fails with 'wrong version number'.*use strategy: starttls or port: 465/],
    ["port: 25, strategy: implicit", /implicit TLS on 25 fails with 'wrong version number'/],
    ["port: 465, strategy: starttls", /STARTTLS on 465 hangs .* use strategy: implicit or port: 587/],
    ["port: 465, strategy: plain, security: { tls: none }", /plaintext SMTP on 465 hangs/],
  ] as const;
  for (const [fields, message] of cases) {
    test(fields, () => {
      const errs = errors(relayYaml(fields));
      assert.equal(errs.length, 1);
      assert.equal(formatPath(errs[0].path), "relays.r.strategy");
      assert.match(errs[0].message, message);
      assert.match(errs[0].hint!, /strategy_port_mismatch: allow/);
    });
    test(`${fields} with strategy_port_mismatch: allow`, () => {
      assert.deepEqual(errors(relayYaml(`${fields}, strategy_port_mismatch: allow`)), []);
    });
  }
  test("implicit on 2525 and starttls on 2526 are not contradictions", () => {
    assert.deepEqual(errors(relayYaml("port: 2525, strategy: implicit")), []);
    assert.deepEqual(errors(relayYaml("port: 2526, strategy: starttls")), []);
  });
  test("compileConfig refuses a config with rule errors even when given directly", () => {
    const config = load(relayYaml("port: 587")) as Config;
    const bad = { ...config, relays: { r: { ...config.relays.r, strategy: "implicit" as const } } };
    assert.throws(() => compileConfig(bad), (e: Error & { code?: string; problems?: unknown[] }) => e.code === "CONFIG_INVALID" && e.problems?.length === 1);
  });
});

describe("plaintext and verification policy", () => {
  test("auth without TLS off loopback is an error; on loopback, or allowed, it is not", () => {
    const clear = "port: 2525, strategy: plain, security: { tls: none }, auth: { user: u, password: { env: P } }";
    assert.equal(errors(relayYaml(clear)).length, 1);
    assert.deepEqual(errors(relayYaml(clear).replace("smtp.example.com", "127.0.0.1")), []);
    assert.deepEqual(errors(relayYaml(clear).replace("smtp.example.com", "localhost")), []);
    assert.deepEqual(errors(relayYaml(clear.replace("tls: none", "tls: none, allow_plaintext_auth: true"))), []);
  });
  test("loopback is a literal 127.0.0.0/8 or ::1 address, or exactly localhost; nothing DNS could redirect", () => {
    for (const h of ["127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LocalHost"]) assert.ok(isLoopback(h), h);
    for (
      const h of ["128.0.0.1", "127.0.0.1.example.com", "localhost.example.com", "localhost.example", "smtp.localhost", "mail.localhost", "LOCALHOST.", "::2", "1::1", "::", "::ffff:10.0.0.1", "10.0.0.1", "127.0.0.256"]
    ) assert.ok(!isLoopback(h), h);
  });
  test("smtp.localhost and localhost.example get no loopback exemption (plaintext AUTH, verify: false)", () => {
    const clear = "port: 2525, strategy: plain, security: { tls: none }, auth: { user: u, password: { env: P } }";
    for (const host of ["smtp.localhost", "localhost.example"]) {
      const errs = errors(relayYaml(clear).replace("smtp.example.com", host));
      assert.deepEqual(errs.map((e) => formatPath(e.path)), ["relays.r.auth"], host);
      const warns = parseConfig(relayYaml("port: 587, security: { verify: false }").replace("smtp.example.com", host), "t.yaml").problems;
      assert.deepEqual(warns.map((p) => `${p.severity} ${formatPath(p.path)}`), ["warning relays.r.security.verify"], host);
    }
  });
  test("the plaintext-AUTH exemption is decided once, in the plan (security.plaintext_auth)", () => {
    const clear = "port: 2525, strategy: plain, security: { tls: none }, auth: { user: u, password: { env: P } }";
    const plan = (yaml: string) => compileConfig(load(yaml)).relays.r.security.plaintext_auth;
    assert.equal(plan(relayYaml(clear).replace("smtp.example.com", "127.0.0.1")), true);
    assert.equal(plan(relayYaml(clear).replace("smtp.example.com", "\"[::1]\"")), true);
    assert.equal(plan(relayYaml(clear).replace("smtp.example.com", "localhost")), true);
    assert.equal(plan(relayYaml(clear.replace("tls: none", "tls: none, allow_plaintext_auth: true"))), true);
    assert.equal(plan(relayYaml("port: 587, auth: { user: u, password: { env: P } }")), false);
    assert.equal(plan(relayYaml("port: 587, security: { tls: opportunistic }, auth: { user: u, password: { env: P } }").replace("smtp.example.com", "127.0.0.1")), false, "a loopback relay that may use TLS does not AUTH in clear");
    assert.equal(plan(relayYaml("port: 587, security: { tls: opportunistic, allow_plaintext_auth: true }")), true);
  });
});

describe("defaults merge under each relay", () => {
  const yaml = `version: 1
defaults:
  security: { tls: opportunistic, min_tls: "1.3", pin: [sha256/${"A".repeat(43)}=] }
  timeouts: { connect: 5s, data: 1m30s }
  retry: { attempts: 5 }
relays:
  a: { host: a.example.com, port: 587 }
  b:
    host: b.example.com
    port: 465
    security: { tls: required, pin: sha256/${"B".repeat(43)}= }
    timeouts: { connect: 500ms }
    retry: { backoff: 2s }
routes: [{ name: all, via: [a, b] }]
`;
  const plan = compileConfig(load(yaml));
  test("defaults apply where the relay says nothing", () => {
    assert.deepEqual(plan.relays.a.security, {
      tls: "opportunistic", min_tls: "1.3", verify: true, ca: null, pin: [`sha256/${"A".repeat(43)}=`],
      server_name: null, client_cert: null, allow_plaintext_auth: false, plaintext_auth: false,
    });
    assert.deepEqual(plan.relays.a.timeouts, { connect_ms: 5000, greeting_ms: 30000, tls_ms: 20000, command_ms: 60000, data_ms: 90000, dot_ms: 600000 });
    assert.deepEqual(plan.relays.a.limits, { max_line: 8192, max_reply: 65536, max_reply_lines: 1000, max_auth_rounds: 10 });
    assert.deepEqual(plan.relays.a.retry, { attempts: 5, backoff_ms: 1000, max_backoff_ms: 60000, max_total_ms: 300000, delivery_unknown: "report" });
  });
  test("the relay wins key by key; a pin list is replaced, not merged", () => {
    assert.equal(plan.relays.b.security.tls, "required");
    assert.equal(plan.relays.b.security.min_tls, "1.3");
    assert.deepEqual(plan.relays.b.security.pin, [`sha256/${"B".repeat(43)}=`]);
    assert.equal(plan.relays.b.timeouts.connect_ms, 500);
    assert.equal(plan.relays.b.timeouts.data_ms, 90000);
    assert.deepEqual(plan.relays.b.retry, { attempts: 5, backoff_ms: 2000, max_backoff_ms: 60000, max_total_ms: 300000, delivery_unknown: "report" });
  });
  test("min_tls written as a YAML number means the same version", () => {
    assert.equal(compileConfig(load(relayYaml("port: 587, security: { min_tls: 1.3 }"))).relays.r.security.min_tls, "1.3");
  });
});

describe("routes: first match wins, recipients split by route", () => {
  const config = load(`version: 1
relays:
  office: { host: office.example.com, port: 587 }
  bulk: { host: bulk.example.com, port: 465 }
  main: { host: main.example.com, port: 587 }
routes:
  - { name: alerts, match: { from: "*@alerts.example.com", to: "*@example.com" }, via: [office, main] }
  - { name: partners, match: { to: ["*@partner.example", "*@*.partner.example"] }, via: [bulk] }
  - { name: literal, match: { to: "a+b?@x.example" }, via: [main] }
  - { name: default, via: [main] }
`);
  const routeOf = (from: string, to: string) => planEnvelope(config, { from, to: [to] }).transactions[0].route;
  test("both sides must match; the first matching route wins", () => {
    assert.equal(routeOf("cron@alerts.example.com", "ops@example.com"), "alerts");
    assert.equal(routeOf("cron@alerts.example.com", "ops@other.example"), "default");
    assert.equal(routeOf("app@example.com", "ops@example.com"), "default");
  });
  test("lists match any pattern; matching ignores case; * may be empty", () => {
    assert.equal(routeOf("x@y.example", "Sam@Partner.Example"), "partners");
    assert.equal(routeOf("x@y.example", "sam@eu.partner.example"), "partners");
    assert.equal(routeOf("x@y.example", "sam@evilpartner.example"), "default");
  });
  test("? is one character; other characters, + and . included, are literal", () => {
    assert.equal(routeOf("x@y.example", "a+b1@x.example"), "literal");
    assert.equal(routeOf("x@y.example", "aab1@x.example"), "default");
    assert.equal(routeOf("x@y.example", "a+b1@xxexample"), "default");
  });
  test("recipients of different routes become transactions in route order, each keeping its relays", () => {
    const plan = planEnvelope(config, { from: "cron@alerts.example.com", to: ["z@gmail.example", "a@example.com", "p@partner.example", "b@example.com"] });
    assert.deepEqual(plan.transactions.map((t) => [t.route, t.recipients, t.relays.map((r) => r.relay)]), [
      ["alerts", ["a@example.com", "b@example.com"], ["office", "main"]],
      ["partners", ["p@partner.example"], ["bulk"]],
      ["default", ["z@gmail.example"], ["main"]],
    ]);
    assert.deepEqual(plan.envelope, { from: "cron@alerts.example.com", to: ["z@gmail.example", "a@example.com", "p@partner.example", "b@example.com"] });
  });
  test("--route forces one route for every recipient", () => {
    const plan = planEnvelope(config, { from: "a@b.example", to: ["x@example.com", "y@partner.example"] }, { route: "partners" });
    assert.deepEqual(plan.transactions.map((t) => [t.route, t.recipients]), [["partners", ["x@example.com", "y@partner.example"]]]);
    assert.throws(() => planEnvelope(config, { from: "a@b.example", to: ["x@example.com"] }, { route: "nope" }), { code: "NO_ROUTE" });
  });
  test("a recipient no route matches is NO_ROUTE naming it", () => {
    const narrow = load(`version: 1\nrelays: { m: { host: m.example.com, port: 587 } }\nroutes: [{ name: only, match: { to: "*@example.com" }, via: [m] }]\n`);
    assert.throws(() => planEnvelope(narrow, { from: "a@b.example", to: ["ok@example.com", "lost@elsewhere.example"] }), (e: Error & { code?: string }) => {
      assert.equal(e.code, "NO_ROUTE");
      assert.match(e.message, /"lost@elsewhere\.example"/);
      assert.doesNotMatch(e.message, /ok@example\.com"/);
      return true;
    });
  });
  test("malformed addresses are MESSAGE_INVALID; the null sender is allowed", () => {
    for (const to of ["a@b.example\r\nRCPT TO:<x@y>", "Name <a@b.example>", "no-at-sign", "a@b@c", ""]) {
      assert.throws(() => planEnvelope(config, { from: "a@b.example", to: [to] }), { code: "MESSAGE_INVALID" }, JSON.stringify(to));
    }
    assert.throws(() => planEnvelope(config, { from: "a@b.example\n", to: ["x@example.com"] }), { code: "MESSAGE_INVALID" });
    assert.throws(() => planEnvelope(config, { from: "a@b.example", to: [] }), { code: "MESSAGE_INVALID" });
    assert.equal(planEnvelope(config, { from: "", to: ["x@example.com"] }).transactions.length, 1);
  });
});

describe("secrets: plans hold references, never values", () => {
  const dir = mkdtempSync(join(tmpdir(), "mailplan-secret-"));
  writeFileSync(join(dir, "pw"), "from-a-file\n");
  const config = load(`version: 1
relays:
  e: { host: e.example.com, port: 587, auth: { user: u, password: { env: MAILPLAN_TEST_PW } } }
  f: { host: f.example.com, port: 587, auth: { user: u, password: { file: ./pw } } }
  l: { host: l.example.com, port: 587, auth: { user: u, password: literal-hunter2 } }
routes: [{ name: all, via: [e, f, l] }]
`);
  const plan = compileConfig(config);
  test("JSON shows where the secret is, not what it is", () => {
    const json = JSON.stringify(plan);
    assert.deepEqual(plan.relays.e.auth?.password, { env: "MAILPLAN_TEST_PW" });
    assert.deepEqual(plan.relays.f.auth?.password, { file: "./pw" });
    assert.deepEqual(JSON.parse(JSON.stringify(plan.relays.l.auth?.password)), { literal: "redacted" });
    assert.doesNotMatch(json, /hunter2/);
  });
  test("resolveSecret reads the value only when asked", () => {
    process.env.MAILPLAN_TEST_PW = "from-env";
    assert.equal(resolveSecret(plan.relays.e.auth!.password, dir), "from-env");
    assert.equal(resolveSecret(plan.relays.f.auth!.password, dir), "from-a-file");
    assert.equal(resolveSecret(plan.relays.l.auth!.password, dir), "literal-hunter2");
    delete process.env.MAILPLAN_TEST_PW;
    assert.throws(() => resolveSecret(plan.relays.e.auth!.password, dir), (e: Error & { code?: string }) => e.code === "CONFIG_INVALID" && /MAILPLAN_TEST_PW is not set/.test(e.message));
    assert.throws(() => resolveSecret({ file: "./missing" }, dir), { code: "CONFIG_INVALID" });
  });
});
