/** `plan --from/--to` reads addresses as `send` does: display names, quoted commas, groups. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";

const example = join(import.meta.dirname!, "..", "config", "mail.yaml");

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}

test("plan --to accepts display names and does not split a quoted comma", async () => {
  const r = await cli("plan", "--config", example, "--from", "Me <me@example.com>", "--to", '"Doe, John" <j@example.org>', "--to", "Team: a@example.com, b@example.com (ops, nights);", "--json");
  assert.equal(r.code, 0, r.out + r.err);
  const plan = JSON.parse(r.out);
  assert.deepEqual(plan.envelope, { from: "me@example.com", to: ["j@example.org", "a@example.com", "b@example.com"] });
});

test("plan --to with a broken list says what is wrong, not 'display names are not allowed'", async () => {
  const r = await cli("plan", "--config", example, "--from", "me@example.com", "--to", '"Doe, John <j@example.org>');
  assert.equal(r.code, 65, r.out + r.err);
  assert.match(r.err, /quoted name .* is not closed/);
  assert.doesNotMatch(r.err, /without a display name/);
});

test("plan shows where AUTH may cross in clear, from the plan's one decision (security.plaintext_auth)", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const file = join(mkdtempSync(join(tmpdir(), "mailplan-plan-")), "pa.yaml");
  writeFileSync(file, `version: 1
relays:
  lo: { host: 127.0.0.1, port: 2525, strategy: plain, security: { tls: none }, auth: { user: u, password: { env: P } } }
  op: { host: smtp.example.com, port: 587, security: { tls: opportunistic, allow_plaintext_auth: true }, auth: { user: u, password: { env: P } } }
  tls: { host: smtp.example.com, port: 465, auth: { user: u, password: { env: P } } }
routes: [{ name: all, via: [lo, op, tls] }]
`);
  const r = await cli("plan", "--config", file);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ {2}lo .*auto as u \(env P, in clear\)$/m);
  assert.match(r.out, /^ {2}op .*auto as u \(env P, in clear if no TLS\)$/m);
  assert.match(r.out, /^ {2}tls .*auto as u \(env P\)$/m);
  const json = JSON.parse((await cli("plan", "--config", file, "--json")).out);
  assert.deepEqual(["lo", "op", "tls"].map((n) => json.relays[n].security.plaintext_auth), [true, true, false]);
});
