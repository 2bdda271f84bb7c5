/**
 * docs/contract.md is the contract users build on, and it lives in the repository they get: its
 * error-code table must say exactly what lib/codes.ts does (every code, both ways, with the same
 * exit status). The README repeats the table; it is held to the same rule.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CODES, EXIT_CODES, hasProbeHint, isErrorCode, isSecurityCode, PROBE_CODES, SECURITY_CODES, temporaryByDefault } from "../lib/codes.ts";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

/** The rows `| CODE | exit | meaning |` of the table under the heading "Error codes and exit status". */
function errorTable(markdown: string, file: string): Map<string, { exit: number; meaning: string }> {
  const start = markdown.search(/^## Error codes and exit status$/m);
  assert.ok(start >= 0, `${file}: no "## Error codes and exit status" section`);
  const section = markdown.slice(start).split(/\n## /)[0];
  const rows = new Map<string, { exit: number; meaning: string }>();
  for (const m of section.matchAll(/^\|\s*([A-Z][A-Z_]*)\s*\|\s*(\d+)\s*\|(.*)\|\s*$/gm)) {
    assert.ok(!rows.has(m[1]), `${file}: ${m[1]} listed twice`);
    rows.set(m[1], { exit: Number(m[2]), meaning: m[3].trim() });
  }
  assert.ok(rows.size > 0, `${file}: the error-code table has no rows`);
  return rows;
}

/** Every difference between a document's table and lib/codes.ts, one sentence each. */
function differences(markdown: string, file: string, meanings = true): string[] {
  const doc = errorTable(markdown, file);
  const code = new Map(Object.entries(EXIT_CODES) as [string, number][]);
  const problems: string[] = [];
  for (const [c, exit] of code) {
    const row = doc.get(c);
    if (!row) problems.push(`${c} (exit ${exit}) is in lib/codes.ts but not in ${file}`);
    else {
      if (row.exit !== exit) problems.push(`${c}: ${file} says exit ${row.exit}, lib/codes.ts says ${exit}`);
      const meaning = CODES[c as keyof typeof CODES].meaning;
      if (meanings && row.meaning !== meaning) problems.push(`${c}: ${file} says "${row.meaning}", lib/codes.ts says "${meaning}"`);
    }
  }
  for (const [c, row] of doc) if (!code.has(c)) problems.push(`${c} (exit ${row.exit}) is in ${file} but not in lib/codes.ts`);
  return problems;
}

const compare = (file: string, meanings = true) => assert.deepEqual(differences(read(file), file, meanings), []);

test("docs/contract.md's error-code table matches lib/codes.ts: codes, exit statuses and meanings, both ways", () => {
  compare("docs/contract.md");
});

test("the README's copy of the table matches lib/codes.ts too, and the README points at docs/contract.md", () => {
  compare("README.md", false); // the README's meanings are shorter; codes and exits must match
  const readme = read("README.md");
  assert.match(readme, /\]\(docs\/contract\.md\)/);
  assert.doesNotMatch(readme, /shared\/docs/, "the README names a file users do not get");
});

test("the comparison fails on a difference (a code missing, an extra code, a wrong exit status or meaning)", () => {
  const doc = read("docs/contract.md");
  assert.deepEqual(differences(doc.replace("| USAGE | 64 |", "| USAGE | 65 |"), "x"), ["USAGE: x says exit 65, lib/codes.ts says 64"]);
  assert.deepEqual(differences(doc.replace("| USAGE | 64 | bad command line |", "| USAGE | 64 | bad flags |"), "x"), ['USAGE: x says "bad flags", lib/codes.ts says "bad command line"']);
  assert.deepEqual(differences(doc.replace(/^\| NO_ROUTE .*\n/m, ""), "x"), ["NO_ROUTE (exit 78) is in lib/codes.ts but not in x"]);
  assert.deepEqual(differences(doc.replace("| USAGE | 64 |", "| NEW_CODE | 70 | x |\n| USAGE | 64 |"), "x"), ["NEW_CODE (exit 70) is in x but not in lib/codes.ts"]);
  assert.throws(() => differences(doc.replace("| USAGE | 64 | bad command line |", "| USAGE | 64 | bad command line |\n| USAGE | 64 | again |"), "x"), /listed twice/);
});

test("docs/contract.md writes commands as `mailplan …` and says once how to run them from a checkout", () => {
  const doc = read("docs/contract.md");
  assert.match(doc, /^mailplan send /m);
  assert.doesNotMatch(doc.replace(/from a checkout[\s\S]*?`--help` on every command/, ""), /mod\.ts/);
  assert.match(doc, /## Additions as built/);
});

test("lib/codes.ts is one table: the security, probe and temporary groups derive from it", () => {
  assert.deepEqual([...SECURITY_CODES].sort(), [
    "AUTH_UNAVAILABLE", "CERT_EXPIRED", "CERT_HOSTNAME_MISMATCH", "CERT_PIN_MISMATCH", "CERT_UNTRUSTED", "STARTTLS_INJECTION",
    "STARTTLS_REFUSED", "STARTTLS_UNAVAILABLE", "TLS_HANDSHAKE_FAILED", "TLS_MODE_MISMATCH", "TLS_VERSION_TOO_LOW",
  ]);
  assert.deepEqual([...PROBE_CODES].sort(), [
    "CERT_EXPIRED", "CERT_HOSTNAME_MISMATCH", "CERT_PIN_MISMATCH", "CERT_UNTRUSTED", "STARTTLS_REFUSED",
    "STARTTLS_UNAVAILABLE", "TLS_HANDSHAKE_FAILED", "TLS_MODE_MISMATCH", "TLS_VERSION_TOO_LOW",
  ]);
  assert.deepEqual(Object.keys(CODES).filter((c) => temporaryByDefault(c as keyof typeof CODES)), ["CONNECT_FAILED", "TIMEOUT", "TEMPORARY_FAILURE"]);
  for (const c of Object.keys(CODES)) {
    assert.equal(isSecurityCode(c), SECURITY_CODES.has(c as keyof typeof CODES));
    assert.equal(hasProbeHint(c), PROBE_CODES.has(c as keyof typeof CODES));
    assert.equal(EXIT_CODES[c as keyof typeof CODES], CODES[c as keyof typeof CODES].exit);
  }
  // Every security failure is a 76/77: the contract's "not safe" statuses.
  for (const c of SECURITY_CODES) assert.ok([76, 77].includes(CODES[c].exit), c);
  assert.equal(isErrorCode("toString"), false);
  assert.equal(isSecurityCode("CONNECTION_CLOSED"), false);
});
