/**
 * docs/contract.md is the contract users build on, and it lives in the repository they get: its
 * error-code table must say exactly what lib/codes.ts does (every code, both ways, with the same
 * exit status). The README repeats the table; it is held to the same rule.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { EXIT_CODES } from "../lib/codes.ts";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** The rows `| CODE | exit | meaning |` of the table under the heading "Error codes and exit status". */
function errorTable(markdown: string, file: string): Map<string, number> {
  const start = markdown.search(/^## Error codes and exit status$/m);
  assert.ok(start >= 0, `${file}: no "## Error codes and exit status" section`);
  const section = markdown.slice(start).split(/\n## /)[0];
  const rows = new Map<string, number>();
  for (const m of section.matchAll(/^\|\s*([A-Z][A-Z_]*)\s*\|\s*(\d+)\s*\|/gm)) {
    assert.ok(!rows.has(m[1]), `${file}: ${m[1]} listed twice`);
    rows.set(m[1], Number(m[2]));
  }
  assert.ok(rows.size > 0, `${file}: the error-code table has no rows`);
  return rows;
}

/** Every difference between a document's table and lib/codes.ts, one sentence each. */
function differences(markdown: string, file: string): string[] {
  const doc = errorTable(markdown, file);
  const code = new Map(Object.entries(EXIT_CODES) as [string, number][]);
  const problems: string[] = [];
  for (const [c, exit] of code) {
    if (!doc.has(c)) problems.push(`${c} (exit ${exit}) is in lib/codes.ts but not in ${file}`);
    else if (doc.get(c) !== exit) problems.push(`${c}: ${file} says exit ${doc.get(c)}, lib/codes.ts says ${exit}`);
  }
  for (const [c, exit] of doc) if (!code.has(c)) problems.push(`${c} (exit ${exit}) is in ${file} but not in lib/codes.ts`);
  return problems;
}

const compare = (file: string) => assert.deepEqual(differences(read(file), file), []);

test("docs/contract.md's error-code table matches lib/codes.ts: codes and exit statuses, both ways", () => {
  compare("docs/contract.md");
});

test("the README's copy of the table matches lib/codes.ts too, and the README points at docs/contract.md", () => {
  compare("README.md");
  const readme = read("README.md");
  assert.match(readme, /\]\(docs\/contract\.md\)/);
  assert.doesNotMatch(readme, /shared\/docs/, "the README names a file users do not get");
});

test("the comparison fails on a difference (a code missing, an extra code, a wrong exit status)", () => {
  const doc = read("docs/contract.md");
  assert.deepEqual(differences(doc.replace("| USAGE | 64 |", "| USAGE | 65 |"), "x"), ["USAGE: x says exit 65, lib/codes.ts says 64"]);
  assert.deepEqual(differences(doc.replace(/^\| NO_ROUTE .*\n/m, ""), "x"), ["NO_ROUTE (exit 78) is in lib/codes.ts but not in x"]);
  assert.deepEqual(differences(doc.replace("| USAGE | 64 |", "| NEW_CODE | 70 | x |\n| USAGE | 64 |"), "x"), ["NEW_CODE (exit 70) is in x but not in lib/codes.ts"]);
  assert.throws(() => differences(doc.replace("| USAGE | 64 |", "| USAGE | 64 |\n| USAGE | 64 |"), "x"), /listed twice/);
});

test("docs/contract.md writes commands as `mailplan …` and says once how to run them from a checkout", () => {
  const doc = read("docs/contract.md");
  assert.match(doc, /^mailplan send /m);
  assert.doesNotMatch(doc.replace(/from a checkout[\s\S]*?`--help` on every command/, ""), /mod\.ts/);
  assert.match(doc, /## Additions as built/);
});
