/**
 * Keeps docs/troubleshooting.md honest: every contract code it names exists in lib/codes.ts with
 * the exit status it states, and every block of mailplan output it quotes (marked
 * `<!-- scenario: NAME [runtime=bun|deno] -->`) is what mailplan prints today: the scenario runs
 * against the test suite's loopback peers (tests/support/doc-scenarios.ts) with this runtime's
 * default socket adapter, and each quoted line must be a line of the output (`…` stands for any
 * text). A changed sentence makes this test fail, so the page goes stale loudly.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CODES, isErrorCode } from "../lib/codes.ts";
import { normalise, SCENARIOS } from "./support/doc-scenarios.ts";
import { assertAllHostileClosed } from "./support/hostile-server.ts";

after(() => assertAllHostileClosed());

const PAGE = readFileSync(new URL("../docs/troubleshooting.md", import.meta.url), "utf8");
const RUNTIME = "Deno" in globalThis ? "deno" : "bun";

interface Quote {
  scenario: string;
  runtime: string | null;
  lines: string[];
}

/** Every quoted block of output, with the scenario that produces it. */
function quotes(page: string): Quote[] {
  const re = /<!-- scenario: ([\w-]+)(?: runtime=(bun|deno))? -->\n```text\n([\s\S]*?)\n```/g;
  return [...page.matchAll(re)].map((m) => ({ scenario: m[1], runtime: m[2] ?? null, lines: m[3].split("\n") }));
}

/** True when `line` is the quoted line, `…` matching any text. */
function matches(quoted: string, line: string): boolean {
  const pattern = quoted.trim().split("…").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`).test(line.trim());
}

test("docs: every contract code the troubleshooting page names exists, with the exit status it states", () => {
  const codeLines = PAGE.split("\n\n").filter((p) => p.startsWith("**mailplan code:**"));
  const sections = PAGE.split("\n## ").slice(1);
  assert.equal(codeLines.length, sections.length, "each entry has one **mailplan code:** paragraph");
  let named = 0;
  for (const p of codeLines) {
    for (const [, code, exit] of p.matchAll(/`([A-Z][A-Z0-9_]+)`(?: \(exit (\d+))?/g)) {
      assert.ok(isErrorCode(code), `docs/troubleshooting.md names "${code}", which is not in lib/codes.ts`);
      if (exit) assert.equal(Number(exit), CODES[code as keyof typeof CODES].exit, `${code}'s exit status on the page`);
      named++;
    }
  }
  // The codes inside quoted output, too.
  for (const q of quotes(PAGE)) {
    for (const l of q.lines) {
      const m = /^NOT SENT via route \S+: ([A-Z_]+) /.exec(l);
      if (m) assert.ok(isErrorCode(m[1]), `quoted output names "${m[1]}", which is not in lib/codes.ts`);
    }
  }
  assert.ok(named >= 13, `the page names codes (found ${named})`);
});

test("docs: the page quotes the four entries the suite guarantees", () => {
  const names = new Set(quotes(PAGE).map((q) => q.scenario));
  for (const must of ["implicit-on-plaintext", "untrusted-ca", "no-starttls", "auth-535"]) {
    assert.ok(names.has(must), `docs/troubleshooting.md quotes the ${must} scenario`);
  }
});

const mine = quotes(PAGE).filter((q) => q.runtime === null || q.runtime === RUNTIME);
for (const name of [...new Set(mine.map((q) => q.scenario))]) {
  test(`docs: troubleshooting.md quotes what mailplan prints today: ${name}`, async () => {
    const scenario = SCENARIOS[name];
    assert.ok(scenario, `docs/troubleshooting.md names scenario "${name}", which tests/support/doc-scenarios.ts does not have`);
    const captured = await scenario.run();
    const output = normalise(captured.text, scenario.displayPort).split("\n");
    for (const q of mine.filter((x) => x.scenario === name)) {
      for (const quoted of q.lines) {
        assert.ok(
          output.some((line) => matches(quoted, line)),
          `docs/troubleshooting.md (${name}) quotes a line mailplan no longer prints:\n  ${quoted}\nmailplan printed:\n${output.join("\n")}`,
        );
      }
    }
    if (captured.code) assert.ok(isErrorCode(captured.code), `${name}: --json error.code ${captured.code}`);
  });
}

test("docs: a changed sentence is caught (the comparison can fail)", () => {
  assert.ok(matches("  hint: add the issuing CA with security.ca…; run: x", "  hint: add the issuing CA with security.ca; more; run: x"));
  assert.ok(!matches("The server does not advertise STARTTLS.", "The server does not offer STARTTLS."));
  assert.ok(!matches("a.c", "abc"), "a dot is a dot, not any character");
});
