/**
 * The outbox from the command line: a temporary failure after retries is queued (exit 75) with the
 * exact message; `send --queue` stores without connecting; `outbox flush` delivers with the current
 * config and removes the entry only after the final 250; an interrupted send is reported, not
 * resent; `outbox drop` removes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";
import { markInflight, list } from "../lib/outbox/mod.ts";
import { type HostileServer, startHostile } from "./support/hostile-server.ts";

/** A server that accepts everything in clear: where queued mail finally goes. */
let good: HostileServer;
before(async () => {
  good = await startHostile({ starttls: false, maxLifetimeMs: 120_000 });
}, { timeout: 120_000 });
after(async () => await good?.close());
/** Messages the good server accepted so far: recipients and body of each DATA. */
const accepted = () => good.connections.flatMap((c) => c.bodies.length ? [{ rcpt: c.commands.filter((k) => k.verb === "RCPT").map((k) => k.line), body: new TextDecoder().decode(c.bodies[0]) }] : []);

/** A config whose one relay points at `port` (plain, loopback), with its own outbox folder. */
function setup(port: number, dir = mkdtempSync(join(tmpdir(), "mailplan-outbox-cli-"))) {
  const config = join(dir, "mail.yaml");
  writeConfig(config, port);
  return { dir, config, outbox: join(dir, "outbox") };
}
function writeConfig(config: string, port: number) {
  writeFileSync(config, `version: 1
outbox: ./outbox
relays: { r: { host: 127.0.0.1, port: ${port}, strategy: plain, security: { tls: none }, timeouts: { greeting: 2s, command: 2s }, retry: { attempts: 1 } } }
routes: [{ name: all, via: [r] }]
`);
}
async function cliIn(env: Record<string, string>, ...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err };
}
const cli = (...argv: string[]) => cliIn({}, ...argv);
const send = (config: string, ...extra: string[]) =>
  cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@rcpt.example,y@rcpt.example", "--subject", "queued", "--text", "keep me", "--json", ...extra);

describe("outbox", () => {
  test("a temporary failure is queued with the exact message; flush delivers it and removes the entry", async () => {
    const hostile = await startHostile({ starttls: false, rules: [{ on: "MAIL", reply: "451 4.3.0 try later" }] });
    const { config, outbox } = setup(hostile.port);
    const r = await send(config);
    await hostile.close();
    assert.equal(r.code, 75, r.out);
    const result = JSON.parse(r.out);
    assert.equal(result.error.code, "TEMPORARY_FAILURE");
    assert.match(result.queued.id, /^\d{8}T\d{9}Z-/);
    const { entries } = await list(outbox);
    assert.deepEqual(entries.map((e) => [e.id, e.pending]), [[result.queued.id, ["x@rcpt.example", "y@rcpt.example"]]]);
    const stored = readFileSync(join(outbox, `${result.queued.id}.eml`), "utf8");
    assert.ok(stored.includes(`Message-ID: ${result.messageId}`));

    const listed = await cli("outbox", "list", "--config", config);
    assert.match(listed.out, new RegExp(`${result.queued.id}  \\d+s old  from a@sender\\.example to x@rcpt\\.example, y@rcpt\\.example  "queued"  1 attempt, last: TEMPORARY_FAILURE`));
    assert.match(listed.err, new RegExp(`config ${config.replace(/[.]/g, "\\.")} \\(from --config\\); outbox ${outbox.replace(/[.]/g, "\\.")}`));

    writeConfig(config, good.port); // the relay is back
    const before = accepted().length;
    // No --config: the config comes from $MAILPLAN_CONFIG (never from the entry), the folder from its outbox:.
    const ok = await cliIn({ MAILPLAN_CONFIG: config }, "outbox", "flush", "--json");
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.deepEqual(JSON.parse(ok.out).outcomes.map((o: { status: string; accepted: string[] }) => [o.status, o.accepted]), [["delivered", ["x@rcpt.example", "y@rcpt.example"]]]);
    assert.equal(accepted().length, before + 1);
    assert.equal(accepted().at(-1)!.body, stored, "the very bytes that were queued (no dot to stuff here)");
    assert.deepEqual((await list(outbox)).entries, []);
  });

  test("flush --due leaves entries whose next attempt has not come", async () => {
    const hostile = await startHostile({ starttls: false, rules: [{ on: "MAIL", reply: "451 4.3.0 try later" }] });
    const { config, outbox } = setup(hostile.port);
    await send(config); // failed once: next attempt in 5 minutes
    await hostile.close();
    writeConfig(config, good.port);
    const due = await cli("outbox", "flush", "--config", config, "--due", "--json");
    assert.equal(due.code, 0);
    assert.deepEqual(JSON.parse(due.out).outcomes, []);
    assert.equal((await list(outbox)).entries.length, 1);
    assert.equal((await cli("outbox", "flush", "--config", config)).code, 0);
    assert.equal((await list(outbox)).entries.length, 0);
  });

  test("send --queue stores without connecting; drop removes", async () => {
    const hostile = await startHostile({ starttls: false });
    const { config, outbox } = setup(hostile.port);
    const r = await send(config, "--queue");
    assert.equal(r.code, 75);
    assert.equal(hostile.connectionCount, 0);
    await hostile.close();
    const id = JSON.parse(r.out).queued.id;
    assert.equal((await cli("outbox", "drop", id, "--config", config)).code, 0);
    assert.deepEqual((await list(outbox)).entries, []);
    const unknown = await cli("outbox", "drop", id, "--config", config);
    assert.equal(unknown.code, 64);
  });

  test("an entry whose send was cut off is reported, not resent; --resend-unknown sends it", async () => {
    const { config, outbox } = setup(good.port);
    const id = JSON.parse((await send(config, "--queue")).out).queued.id;
    await markInflight(outbox, id, { relay: "r" }); // what a killed flush leaves behind
    const before = accepted().length;
    const first = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(first.code, 75);
    assert.equal(JSON.parse(first.out).outcomes[0].status, "interrupted");
    assert.equal(accepted().length, before);
    const forced = await cli("outbox", "flush", "--config", config, "--resend-unknown", "--json");
    assert.equal(forced.code, 0, forced.out);
    assert.equal(accepted().length, before + 1);
  });

  test("a permanent refusal during flush ends the entry, with the refusal kept in the result", async () => {
    const hostile = await startHostile({ starttls: false, rules: [{ on: "RCPT", nth: 2, reply: "550 5.1.1 no such user" }] });
    const { config, outbox } = setup(hostile.port);
    await send(config, "--queue");
    const r = await cli("outbox", "flush", "--config", config, "--json");
    await hostile.close();
    assert.equal(r.code, 0, r.out);
    const [o] = JSON.parse(r.out).outcomes;
    assert.deepEqual([o.status, o.accepted, o.rejected.map((x: { address: string }) => x.address)], ["delivered", ["x@rcpt.example"], ["y@rcpt.example"]]);
    assert.deepEqual((await list(outbox)).entries, []);
  });
});
// kill -9 during send and flush: tests/outbox/inflight.test.ts (each kill waits on a server event).

describe("outbox commands: config location, --net, hostile text", () => {
  test("flush honours --net (an unknown adapter is a USAGE error; a known one delivers)", async () => {
    const { config, outbox } = setup(good.port);
    await send(config, "--queue");
    const bad = await cli("outbox", "flush", "--config", config, "--net", "carrier-pigeon");
    assert.equal(bad.code, 64);
    assert.match(bad.err, /adapter "carrier-pigeon" is not available/);
    assert.equal((await list(outbox)).entries.length, 1, "nothing was tried");
    const ok = await cli("outbox", "flush", "--config", config, "--net", "node-tls", "--json");
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.deepEqual((await list(outbox)).entries, []);
  });

  test("every subcommand uses the located config's outbox: and says which config and folder", async () => {
    const { dir, config, outbox } = setup(good.port);
    const id = JSON.parse((await send(config, "--queue")).out).queued.id;
    const env = { MAILPLAN_CONFIG: config, HOME: dir };
    const l = await cliIn(env, "outbox", "list");
    assert.equal(l.code, 0, l.err);
    assert.match(l.err, /config .*mail\.yaml \(from \$MAILPLAN_CONFIG\); outbox .*outbox \(its outbox:\)/);
    assert.match(l.out, new RegExp(id));
    assert.match((await cliIn(env, "outbox", "show", id)).out, /subject: +queued/);
    // No config anywhere: list falls back to $MAILPLAN_OUTBOX and says where it looked for a config.
    const none = await cliIn({ HOME: dir, XDG_CONFIG_HOME: join(dir, "nothing"), MAILPLAN_OUTBOX: outbox }, "outbox", "list");
    assert.equal(none.code, 0);
    assert.match(none.err, /no config \(looked for .*nothing\/mailplan\/mail\.yaml, \/etc\/mailplan\/mail\.yaml\); outbox .* \(\$MAILPLAN_OUTBOX\)/);
    assert.match(none.out, new RegExp(id));
    assert.equal((await cliIn(env, "outbox", "drop", id)).code, 0);
  });

  test("addresses and subjects from an entry reach the terminal escaped (list, show, flush)", async () => {
    const { config, outbox } = setup(good.port);
    const { enqueue } = await import("../lib/outbox/mod.ts");
    const { messageFromBytes } = await import("../lib/engine/message-source.ts");
    const raw = new TextEncoder().encode("From: a@sender.example\r\nSubject: hi \x1b]0;owned\x07\x1b[2J\r\n\r\nbody\r\n");
    const id = await enqueue(outbox, { envelope: { from: "a\x1b[31m@sender.example", recipients: ["x\x07@rcpt.example"] }, message: messageFromBytes(raw), reason: { code: "TEMPORARY_FAILURE", message: "451 \x1b[2J" } });
    for (const argv of [["outbox", "list"], ["outbox", "show", id], ["outbox", "flush"]]) {
      const r = await cli(...argv, "--config", config);
      // deno-lint-ignore no-control-regex -- raw control bytes in the output are what this checks for
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.out + r.err), `${argv.join(" ")}: raw control bytes in ${JSON.stringify(r.out)}`);
      assert.match(r.out + r.err, /\\x07|\\x1b|\\u001b/, "the bytes are shown, escaped");
    }
  });
});

