/**
 * Bad input in a config gets one clear sentence (issue 9, issue 8 §7): escaped output, shell
 * variables as passwords, quoted numbers, YAML syntax follow-on errors, every problem at once,
 * relay names that are Object.prototype keys, a port glued to the host.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import { formatPath, formatProblem } from "../lib/config/problem.ts";
import { compileConfig, planEnvelope } from "../lib/plan/compile.ts";
import { renderConfigPlan } from "../lib/cli/render-plan.ts";
import { runCli } from "../lib/cli/main.ts";

// deno-lint-ignore no-control-regex -- matching raw control characters is what this test checks
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const lines = (yaml: string) => parseConfig(yaml, "m.yaml").problems.map(formatProblem);
const errorPaths = (yaml: string) => parseConfig(yaml, "m.yaml").problems.filter((p) => p.severity === "error").map((p) => formatPath(p.path));
const relay = (fields: string) => `version: 1\nrelays:\n  r: { host: smtp.example.com, ${fields} }\nroutes: [{ name: all, via: [r] }]\n`;

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}

describe("terminal control bytes never reach the screen from check or plan", () => {
  test("unknown key names, (got …) values with C1 and bidi controls, odd relay names", () => {
    const yaml = 'version: 1\nrelays:\n  a: { host: h.example.com, port: 587, "x\\e]0;owned\\a\\e[2J": 1, helo: "bad\\u0085\\u009b2J\\u202eevil" }\n  "b\\e[31m\\u2066": { host: h.example.com, port: 587 }\nroutes: [{ name: all, via: [a] }]\n';
    const out = lines(yaml);
    assert.equal(out.length, 3, out.join("\n"));
    for (const l of out) assert.doesNotMatch(l, UNSAFE, JSON.stringify(l));
    assert.ok(out.some((l) => l.includes('unknown key "x\\x1b]0;owned\\x07\\x1b[2J"')), out.join("\n"));
    assert.ok(out.some((l) => l.includes('(got "bad\\x85\\x9b2J\\u{202e}evil")')), out.join("\n"));
  });

  test("check's summary and plan's tables escape file names and config values", () => {
    const yaml = 'version: 1\nrelays:\n  r: { host: smtp.example.com, port: 587, auth: { user: "u\\e[2J\\u0085\\u202e", password: { env: P } } }\nroutes: [{ name: all, via: [r] }]\n';
    const loaded = parseConfig(yaml, "odd\x1b[2J.yaml");
    assert.ok(loaded.config, loaded.problems.map(formatProblem).join("\n"));
    const text = renderConfigPlan(compileConfig(loaded.config), "odd\x1b[2J.yaml");
    assert.doesNotMatch(text, UNSAFE);
    assert.match(text, /as u\\x1b\[2J\\x85\\u\{202e\}/);
    assert.match(text, /Plan for odd\\x1b\[2J\.yaml/);
  });

  test("a route pattern with a bidi override or C1 control is refused, and shown escaped", () => {
    for (const glob of ["*@ex\\u202eample.com", "*@ex\\u0085ample.com"]) {
      const out = lines(`version: 1\nrelays:\n  r: { host: smtp.example.com, port: 587 }\nroutes: [{ name: all, match: { to: "${glob}" }, via: [r] }]\n`);
      assert.equal(out.length, 1, out.join("\n"));
      assert.match(out[0], /routes\[0\]\.match\.to: address pattern contains a space, control character/);
      assert.doesNotMatch(out[0], UNSAFE);
    }
  });
});

describe("a shell variable as a password is an error that shows { env: … }", () => {
  for (const pw of ["$SMTP_PASSWORD", '"${SMTP_PASSWORD}"']) {
    test(pw, () => {
      const loaded = parseConfig(relay(`port: 587, auth: { user: u, password: ${pw} }`), "m.yaml");
      assert.equal(loaded.config, undefined);
      const [p] = loaded.problems.filter((p) => p.severity === "error");
      assert.equal(formatPath(p.path), "relays.r.auth.password");
      assert.match(formatProblem(p), /looks like a shell variable, but mailplan does not expand variables.*; write password: \{ env: SMTP_PASSWORD \}/);
    });
  }
  for (const pw of ["pa$$word", "$ecret9", "${lower}"]) {
    test(`${pw} is a password, not a variable: a warning that never echoes it`, () => {
      const loaded = parseConfig(relay(`port: 587, auth: { user: u, password: "${pw}" }`), "m.yaml");
      assert.ok(loaded.config);
      const text = loaded.problems.map(formatProblem).join("\n");
      assert.match(text, /warning: a literal password/);
      assert.ok(!text.includes(pw.replace(/[${}]/g, "")), text);
    });
  }
});

test('port: "587" says to remove the quotes', () => {
  const [p] = lines(relay('port: "587"'));
  assert.match(p, /relays\.r\.port: must be a port number from 1 to 65535 \(got "587"\); remove the quotes: port: 587/);
  assert.doesNotMatch(p, /use 587/);
});

describe("YAML syntax: the first error of a block, not its follow-on errors", () => {
  test("a block indented with tabs gives one error, a tab hint, and no advice to merge keys", async () => {
    const r = await cli("check", "--config", join(import.meta.dirname!, "fixtures", "invalid", "tabs.yaml"));
    assert.equal(r.code, 78);
    const problems = r.out.split("\n").filter((l) => l.includes("YAML syntax error"));
    assert.equal(problems.length, 1, r.out);
    assert.match(problems[0], /Tabs are not allowed as indentation; indent with spaces/);
    assert.doesNotMatch(r.out, /merge the two entries|Map keys must be unique/);
    assert.match(r.out, /1 error, 0 warnings\. Fix the YAML syntax above first/);
    assert.doesNotMatch(r.out, /each names the key/);
  });
  test("one error per broken top-level block: two broken blocks give two errors", () => {
    const yaml = "version: 1\nrelays:\n  a:\n\thost: x\n\tport: 1\nroutes:\n  - name: all\n\tvia: [a]\n";
    const out = lines(yaml);
    assert.deepEqual(out.map((l) => l.split(" ")[0]), ["m.yaml:4:1", "m.yaml:8:1"], out.join("\n"));
  });
});

test("all problems at once: type errors do not hide the file and port/strategy rules of the valid parts", () => {
  const yaml = "version: 1\nrelays:\n  a:\n    host: smtp.example.com\n    port: 587\n    strategy: implicit\n    timeouts: { connect: 10 }\n    security: { ca: ./missing-ca.pem, verify: yes-please }\nroutes: [{ name: all, via: [a] }]\n";
  const loaded = parseConfig(yaml, join(import.meta.dirname!, "m.yaml"), { files: true });
  const got = loaded.problems.filter((p) => p.severity === "error").map((p) => `${formatPath(p.path)}: ${p.message}`);
  assert.equal(got.length, 4, got.join("\n"));
  assert.ok(got.some((l) => l.startsWith("relays.a.timeouts.connect: must be a duration")), got.join("\n"));
  assert.ok(got.some((l) => l.startsWith("relays.a.security.verify: must be true or false")), got.join("\n"));
  assert.ok(got.some((l) => l.startsWith("relays.a.strategy: implicit TLS on 587")), got.join("\n"));
  assert.ok(got.some((l) => l.startsWith(`relays.a.security.ca: file ${join(import.meta.dirname!, "missing-ca.pem")} does not exist`)), got.join("\n"));
});

test("a relay whose port is broken still gets its files and its password checked", () => {
  const yaml = 'version: 1\nrelays:\n  a:\n    host: smtp.example.com\n    port: "587"\n    security: { ca: ./missing-ca.pem, tls: requird }\n    auth: { user: u, password: $SMTP_PASSWORD }\nroutes: [{ name: all, via: [a] }]\n';
  const loaded = parseConfig(yaml, join(import.meta.dirname!, "m.yaml"), { files: true });
  const got = loaded.problems.filter((p) => p.severity === "error").map((p) => `${formatPath(p.path)}: ${p.message}`);
  assert.deepEqual(got.map((l) => l.split(":")[0]), ["relays.a.port", "relays.a.security.ca", "relays.a.security.tls", "relays.a.auth.password"], got.join("\n"));
});

describe("relay names that are Object.prototype keys are ordinary names", () => {
  for (const name of ["constructor", "prototype", "toString", "hasOwnProperty", "valueOf"]) {
    test(name, () => {
      const yaml = `version: 1\nrelays:\n  ${name}: { host: smtp.example.com, port: 587 }\nroutes: [{ name: all, via: [${name}] }]\n`;
      const loaded = parseConfig(yaml, "m.yaml");
      assert.deepEqual(loaded.problems.map(formatProblem), []);
      const plan = planEnvelope(loaded.config!, { from: "a@example.com", to: ["b@example.com"] });
      assert.equal(plan.transactions[0].relays[0].relay, name);
      assert.deepEqual(Object.keys(compileConfig(loaded.config!).relays), [name]);
    });
  }
  test("__proto__ is reported as an invalid name, not as 'must define at least one relay'", () => {
    const out = lines("version: 1\nrelays:\n  __proto__: { host: smtp.example.com, port: 587 }\nroutes: [{ name: all, via: [x] }]\n");
    assert.ok(out.some((l) => /relays\.__proto__: is not a valid relay name/.test(l)), out.join("\n"));
    assert.ok(!out.some((l) => /at least one relay/.test(l)), out.join("\n"));
  });
  test("a via naming an inherited key is still an unknown relay", () => {
    assert.deepEqual(errorPaths("version: 1\nrelays:\n  a: { host: smtp.example.com, port: 587 }\nroutes: [{ name: all, via: [a, constructor] }]\n"), ["routes[0].via[1]"]);
  });
});

describe("host refuses a port glued to it, with the hint to use port:", () => {
  for (const [host, hint] of [['"10.0.0.1:2525"', /host: 10\.0\.0\.1 and port: 2525/], ['":"', /the port goes in port:/], ['"[::1]:25"', /host: ::1 and port: 25/], ['"smtp.example.com:587"', /host: smtp\.example\.com and port: 587/]] as const) {
    test(host, () => {
      const out = lines(`version: 1\nrelays:\n  r: { host: ${host}, port: 587 }\nroutes: [{ name: all, via: [r] }]\n`);
      assert.equal(out.length, 1, out.join("\n"));
      assert.match(out[0], /relays\.r\.host: /);
      assert.match(out[0], hint);
    });
  }
  for (const host of ['"::1"', '"[::1]"', '"2001:db8::25"', "127.0.0.1", "smtp.example.com"]) {
    test(`${host} is fine`, () => assert.deepEqual(lines(`version: 1\nrelays:\n  r: { host: ${host}, port: 587 }\nroutes: [{ name: all, via: [r] }]\n`), []));
  }
});
