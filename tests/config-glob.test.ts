/**
 * Route globs (threat F8): a linear-time matcher, never a backtracking RegExp. The adversarial
 * cases assert on the step count the matcher reports, bounded by (pattern + 1) × (text + 1), so
 * the test does not depend on machine speed.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { globMatch } from "../lib/config/glob.ts";

describe("glob semantics", () => {
  const cases: [string, string, boolean][] = [
    ["*", "a@b", true],
    ["*", "", true],
    ["*@example.com", "ops@example.com", true],
    ["*@example.com", "ops@EXAMPLE.com", true],
    ["*@Example.COM", "ops@example.com", true],
    ["*@example.com", "ops@example.com.evil", false],
    ["*@example.com", "ops@sub.example.com", false],
    ["*@*.example.com", "ops@sub.example.com", true],
    ["*@*.example.com", "ops@example.com", false],
    ["alerts@*", "alerts@x.org", true],
    ["alerts@*", "xalerts@x.org", false],
    ["?ps@x.org", "ops@x.org", true],
    ["?ps@x.org", "ps@x.org", false],
    ["?ps@x.org", "oops@x.org", false],
    ["a.b@x.org", "aXb@x.org", false], // `.` is literal, unlike a RegExp
    ["a+b@x.org", "a+b@x.org", true],
    ["a+b@x.org", "aab@x.org", false],
    ["[ab]@x.org", "[ab]@x.org", true],
    ["[ab]@x.org", "a@x.org", false],
    ["**@x.org", "a@x.org", true],
    ["*a*b*@x.org", "xxaxxbxx@x.org", true],
    ["*a*b*@x.org", "xxbxxaxx@x.org", false],
    ["*@é.example", "a@É.example", true],
    ["?@x.org", "é@x.org", true], // `?` is one character, not one UTF-16 unit
  ];
  for (const [glob, text, want] of cases) {
    test(`${glob} ${want ? "matches" : "does not match"} ${text}`, () => assert.equal(globMatch(glob, text).matched, want));
  }
});

describe("adversarial globs × 1,000-character addresses stay within O(pattern × text) steps", () => {
  const long = (ch: string) => ch.repeat(1000 - "@x.example.com".length) + "@x.example.com";
  const texts = [
    "-".repeat(1000),
    long("-"),
    "a".repeat(999) + "b",
    "a-".repeat(500),
    "a".repeat(1000),
    ("ab".repeat(10) + "@").repeat(48) + "x",
  ];
  const patterns = [
    "*-*-*-*-*-*@*.example.com",
    "*-*-*-*-*-*-*-*-*-*-*-*-*-*-*-*@*.example.com",
    "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c",
    "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*!",
    "a*a*a*a*a*a*a*a*a*a*b@",
    "*" + "-*".repeat(40) + "z",
  ];
  for (const p of patterns) {
    test(p, () => {
      for (const t of texts) {
        assert.equal(t.length >= 1000, true);
        const r = globMatch(p, t);
        const bound = ([...p].length + 1) * (t.length + 1);
        assert.ok(r.steps <= bound, `${r.steps} steps > ${bound} for ${p} × ${t.slice(0, 20)}…`);
      }
    });
  }
  test("the issue's pattern against the issue's 214-character address: no match, few steps", () => {
    const address = "-".repeat(200) + "@a.example.co";
    const r = globMatch("*-*-*-*-*-*@*.example.com", address);
    assert.equal(r.matched, false);
    assert.ok(r.steps <= 26 * 215, String(r.steps));
  });
  test("no RegExp is built from a pattern", () => {
    const src = readFileSync(join(import.meta.dirname!, "..", "lib", "config", "glob.ts"), "utf8");
    assert.doesNotMatch(src, /new RegExp/);
  });
});
