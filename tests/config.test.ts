/**
 * Config loading: every invalid fixture reports exactly the problems its `# expect: L:C path`
 * lines list (errors) and `# warn: L:C path` lines (warnings); valid fixtures load clean.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, parseConfig } from "../lib/config/load.ts";
import { formatPath, formatProblem } from "../lib/config/problem.ts";

const dir = join(import.meta.dirname!, "fixtures");

/** Every .yaml file under a folder, recursively. */
export function yamlFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yaml")).sort().map((f) => join(folder, f));
}

function expectations(file: string) {
  const text = readFileSync(file, "utf8");
  const pick = (tag: string) => [...text.matchAll(new RegExp(`^# ${tag}: (\\d+:\\d+ .+)$`, "gm"))].map((m) => m[1]).sort();
  return { errors: pick("expect"), warnings: pick("warn") };
}

function found(file: string) {
  const loaded = loadConfig(file, { references: true });
  const at = (sev: string) => loaded.problems.filter((p) => p.severity === sev).map((p) => `${p.line}:${p.col} ${formatPath(p.path)}`).sort();
  return { loaded, errors: at("error"), warnings: at("warning") };
}

describe("invalid fixtures report exactly the expected line:col and key", () => {
  for (const name of readdirSync(join(dir, "invalid")).filter((f) => f.endsWith(".yaml"))) {
    test(name, () => {
      const file = join(dir, "invalid", name);
      const want = expectations(file);
      const got = found(file);
      assert.ok(want.errors.length > 0, "fixture lists its expected errors");
      assert.deepEqual(got.errors, want.errors, got.loaded.problems.map(formatProblem).join("\n"));
      assert.equal(got.loaded.config, undefined);
      for (const p of got.loaded.problems) {
        assert.ok(p.message.length > 0);
        if (p.severity === "error") assert.ok(p.hint && p.hint.length > 3, `every error has a hint: ${formatProblem(p)}`);
      }
    });
  }
});

describe("valid fixtures and shipped configs load without errors", () => {
  const files = [
    ...readdirSync(join(dir, "valid")).map((f) => join(dir, "valid", f)),
    join(dir, "..", "..", "config", "mail.yaml"),
    ...yamlFiles(join(dir, "..", "..", "examples")),
  ];
  for (const file of files) {
    test(file.split("/").slice(-2).join("/"), () => {
      const got = found(file);
      assert.deepEqual(got.errors, [], got.loaded.problems.map(formatProblem).join("\n"));
      assert.ok(got.loaded.config);
      const want = expectations(file);
      if (want.warnings.length) assert.deepEqual(got.warnings, want.warnings);
    });
  }
});

describe("problem messages", () => {
  const problems = (text: string) => parseConfig(text, "mail.yaml").problems.map(formatProblem);

  test("format is FILE:LINE:COL path: what (got X); hint", () => {
    const [p] = problems("version: 1\nrelays:\n  a: { host: smtp.example.com, port: 0 }\nroutes: [{ name: all, via: [a] }]\n");
    assert.equal(p, "mail.yaml:3:38 relays.a.port: must be a port number from 1 to 65535 (got 0); use 587 for STARTTLS or 465 for implicit TLS");
  });

  test("unknown keys and enum values suggest the closest name", () => {
    const out = problems("version: 1\nrelays:\n  a: { host: h.example.com, port: 587, stratgy: implicit, security: { tls: requird } }\nroutes: [{ name: all, via: [a] }]\n");
    assert.ok(out.some((l) => l.includes('unknown key "stratgy"; did you mean "strategy"?')), out.join("\n"));
    assert.ok(out.some((l) => l.includes('(got "requird"); did you mean "required"?')), out.join("\n"));
  });

  test("the port/strategy contradiction explains the seed failure in one sentence", () => {
    const [p] = problems("version: 1\nrelays:\n  a: { host: smtp.example.com, port: 587, strategy: implicit }\nroutes: [{ name: all, via: [a] }]\n");
    assert.match(p, /implicit TLS on 587 fails with 'wrong version number': port 587 expects plaintext then STARTTLS; use strategy: starttls or port: 465/);
  });

  test("a literal password is a warning and its value is never printed", () => {
    const loaded = parseConfig("version: 1\nrelays:\n  a:\n    host: smtp.example.com\n    port: 587\n    auth: { user: u, password: hunter2-secret }\nroutes: [{ name: all, via: [a] }]\n", "m.yaml");
    assert.ok(loaded.config);
    const text = loaded.problems.map(formatProblem).join("\n");
    assert.match(text, /m\.yaml:6:32 relays\.a\.auth\.password: warning: a literal password will end up in git/);
    assert.doesNotMatch(text, /hunter2/);
  });

  test("a malformed secret never echoes its value", () => {
    const text = problems("version: 1\nrelays:\n  a:\n    host: smtp.example.com\n    port: 587\n    auth: { user: u, password: [hunter2-secret] }\nroutes: [{ name: all, via: [a] }]\n").join("\n");
    assert.match(text, /relays\.a\.auth\.password: must be \{ env: VAR \} or \{ file: PATH \}/);
    assert.doesNotMatch(text, /hunter2/);
  });

  test("verify: false without a pin off loopback is a warning, on loopback it is not", () => {
    const warn = parseConfig("version: 1\nrelays:\n  a: { host: smtp.example.com, port: 587, security: { verify: false } }\n  b: { host: 127.0.0.1, port: 587, security: { verify: false } }\nroutes: [{ name: all, via: [a, b] }]\n", "m.yaml").problems;
    assert.deepEqual(warn.map((p) => `${p.severity} ${formatPath(p.path)}`), ["warning relays.a.security.verify"]);
  });

  test("a route after a catch-all and an unused relay are warnings", () => {
    const got = parseConfig("version: 1\nrelays:\n  a: { host: a.example.com, port: 587 }\n  b: { host: b.example.com, port: 587 }\nroutes:\n  - { name: all, via: [a] }\n  - { name: never, match: { to: '*@x.example' }, via: [a] }\n", "m.yaml").problems;
    assert.deepEqual(got.map((p) => `${p.severity} ${p.line}:${p.col} ${formatPath(p.path)}`), ["warning 4:3 relays.b", "warning 7:5 routes[1]"]);
  });

  test("x- top-level keys are free for anchors", () => {
    const loaded = parseConfig("version: 1\nx-port: &p 587\nrelays:\n  a: { host: a.example.com, port: *p }\nroutes: [{ name: all, via: [a] }]\n", "m.yaml");
    assert.deepEqual(loaded.problems, []);
    assert.equal(loaded.config?.relays.a.port, 587);
  });

  test("an empty file and a non-mapping say what a config looks like", () => {
    for (const text of ["", "- a\n- b\n", "just text\n"]) {
      const out = problems(text);
      assert.equal(out.length, 1, out.join("\n"));
      assert.match(out[0], /^mail\.yaml:1:1 \(top level\): must be a mapping with version, relays and routes/);
    }
  });

  test("a missing config file is CONFIG_INVALID with a hint, not a stack trace", () => {
    assert.throws(() => loadConfig("/nonexistent/mail.yaml"), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, "CONFIG_INVALID");
      assert.match(e.message, /does not exist/);
      assert.ok(e.hint);
      return true;
    });
  });
});
