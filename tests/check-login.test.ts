/**
 * `mailplan check --login` (issue 11 §5) against the hostile server, on every adapter: a right
 * password logs in (the server sees AUTH, then QUIT, and no MAIL); a wrong one is AUTH_FAILED
 * (77) with AUTH seen and no MAIL; a relay that offers no STARTTLS under `tls: required` fails
 * before AUTH; the password never appears in the output, human or --json.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_CODES } from "../lib/codes.ts";
import { runCli } from "../lib/cli/main.ts";
import { availableAdapters } from "../lib/net/detect.ts";
import { makePki } from "./support/certs.ts";
import { assertAllHostileClosed, type Connection, type HostileServer, startHostile } from "./support/hostile-server.ts";

const RIGHT = "s3cret-pass";
const WRONG = "wr0ng-Passw0rd";
let good: HostileServer, noTls: HostileServer;
let dir: string, config: string;

before(async () => {
  const pki = makePki();
  good = await startHostile({ user: "me", password: RIGHT });
  noTls = await startHostile({ user: "me", password: RIGHT, starttls: false });
  dir = mkdtempSync(join(tmpdir(), "mailplan-login-"));
  writeFileSync(join(dir, "right"), RIGHT + "\n");
  writeFileSync(join(dir, "wrong"), WRONG + "\n");
  config = join(dir, "mail.yaml");
  const relay = (port: number, secret: string) =>
    `{ host: 127.0.0.1, port: ${port}, strategy: starttls, helo: client.test, security: { ca: ${pki.root.cert.path} }, retry: { attempts: 1 }, auth: { user: me, password: { file: ./${secret} } } }`;
  writeFileSync(config, `version: 1
relays:
  good: ${relay(good.port, "right")}
  bad: ${relay(good.port, "wrong")}
  notls: ${relay(noTls.port, "right")}
routes:
  - { name: all, via: [good, bad, notls] }
`);
});
after(async () => {
  await good?.close();
  await noTls?.close();
  rmSync(dir, { recursive: true, force: true });
  assertAllHostileClosed();
});

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  assert.ok(!(out + err).includes(RIGHT) && !(out + err).includes(WRONG), "a password appeared in the output");
  return { code, out, err };
}

/** What the server saw on the connections a run opened. */
async function seen(srv: HostileServer, from: number, run: () => Promise<unknown>) {
  await run();
  const conns: Connection[] = srv.connections.slice(from);
  await Promise.all(conns.map((c) => c.closed));
  const verbs = conns.flatMap((c) => c.commands.map((x) => `${x.phase}:${x.verb.toUpperCase()}`));
  return { conns, verbs };
}

for (const net of availableAdapters()) {
  describe(`check --login (--net ${net})`, () => {
    test("a right password: ok, AUTH over TLS then QUIT, no MAIL", async () => {
      let r!: Awaited<ReturnType<typeof cli>>;
      const s = await seen(good, good.connections.length, async () => (r = await cli("check", "--config", config, "--login", "--relay", "good", "--net", net)));
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /^ok {4}good {2}127\.0\.0\.1:\d+ {2}(TLSv1\.[23]|TLS \(version not visible to this adapter\)), AUTH PLAIN as me\n/);
      assert.match(r.out, /1 of 1 relay let us in: ok \(nothing was sent\)\.\n$/);
      assert.deepEqual(s.verbs, ["plain:EHLO", "plain:STARTTLS", "tls:EHLO", "tls:AUTH", "tls:QUIT"]);
    });
    test("a wrong password: AUTH_FAILED, exit 77, AUTH seen and no MAIL", async () => {
      let r!: Awaited<ReturnType<typeof cli>>;
      const s = await seen(good, good.connections.length, async () => (r = await cli("check", "--config", config, "--login", "--relay", "bad", "--net", net)));
      assert.equal(r.code, 77, r.out + r.err);
      assert.match(r.err, /^FAIL {2}bad {2}127\.0\.0\.1:\d+ {2}AUTH_FAILED \(auth\): /);
      assert.ok(s.verbs.includes("tls:AUTH"), s.verbs.join(" "));
      assert.ok(!s.verbs.some((v) => /MAIL|RCPT|DATA/.test(v)), s.verbs.join(" "));
    });
    test("no STARTTLS under tls: required: fails before AUTH (exit 76)", async () => {
      let r!: Awaited<ReturnType<typeof cli>>;
      const s = await seen(noTls, noTls.connections.length, async () => (r = await cli("check", "--config", config, "--login", "--relay", "notls", "--net", net)));
      assert.equal(r.code, 76, r.out + r.err);
      assert.match(r.err, /^FAIL {2}notls {2}127\.0\.0\.1:\d+ {2}STARTTLS_UNAVAILABLE /);
      assert.ok(!s.verbs.some((v) => /AUTH|MAIL|RCPT|DATA/.test(v)), s.verbs.join(" "));
      assert.deepEqual(noTls.failClosedViolations({ secret: RIGHT }), []);
    });
    test("every relay with --json: one object per relay; exit is the first failure's", async () => {
      const r = await cli("check", "--config", config, "--login", "--json", "--net", net);
      const result = JSON.parse(r.out);
      assert.equal(result.ok, false);
      assert.equal(result.file, config);
      assert.deepEqual(result.relays.map((x: { relay: string; ok: boolean; error: { code: string } | null }) => [x.relay, x.ok, x.error?.code ?? null]), [
        ["bad", false, "AUTH_FAILED"], // the compiled plan's order (by name)
        ["good", true, null],
        ["notls", false, "STARTTLS_UNAVAILABLE"],
      ]);
      assert.equal(result.relays[1].authenticated, "PLAIN");
      assert.equal(r.code, EXIT_CODES.AUTH_FAILED);
    });
  });
}

describe("check --login: usage", () => {
  test("an unknown --relay is a usage error with a suggestion", async () => {
    const r = await cli("check", "--config", config, "--login", "--relay", "goood");
    assert.equal(r.code, 64);
    assert.match(r.err, /The config has no relay "goood"\. Hint: did you mean "good"\?/);
  });
  test("--relay without --login is refused", async () => {
    const r = await cli("check", "--config", config, "--relay", "good");
    assert.equal(r.code, 64);
    assert.match(r.err, /--relay goes with check --login/);
  });
});
