/**
 * The outbox trusts nothing in its folder another user could have written (threats F1–F4):
 * a folder or entry writable by group/others or owned by someone else is refused with the fix;
 * entry files are never followed through a symlink; a FIFO does not hang; an entry never chooses
 * the config (the planted-entry attack); a message changed on disk is caught before its first
 * byte is sent and moved to the failed folder.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { enqueue, list, listFailed } from "../../lib/outbox/mod.ts";
import { type HostileServer, startHostile } from "../support/hostile-server.ts";
import { cli, cliIn, deliveredTo, send, setup } from "./cli-helpers.ts";
import { message } from "./helpers.ts";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
let good: HostileServer;
before(async () => (good = await startHostile({ starttls: false, maxLifetimeMs: 120_000 })), { timeout: 120_000 });
after(async () => await good?.close());

const envelope = (to: string) => ({ from: "a@sender.example", recipients: [to] });
const reason = { code: "TEMPORARY_FAILURE" as const, message: "451" };

describe("F1: the outbox folder and its entries belong to the user alone", () => {
  for (const mode of [0o777, 0o770, 0o702]) {
    test(`a folder with mode 0${mode.toString(8)} is refused with the fix (chmod 700 …); send still sends, with a warning`, async () => {
      const { config, outbox } = setup(good.port);
      mkdirSync(outbox);
      chmodSync(outbox, mode);
      const l = await cli("outbox", "list", "--config", config);
      assert.equal(l.code, 78, l.out + l.err);
      assert.match(l.err, new RegExp(`writable by .*chmod 700 ${outbox.replace(/[.]/g, "\\.")}`, "s"));
      const before = deliveredTo(good).length;
      const r = await send(config, "f1@rcpt.example");
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(deliveredTo(good).length, before + 1);
      assert.match(JSON.parse(r.out).outbox.error, /chmod 700/);
      assert.match(r.err, /warning: outbox: .*chmod 700/);
    });
  }
  test("a folder owned by another user is refused (root only: chown)", { skip: !isRoot && "needs root to chown" }, async () => {
    const { config, outbox } = setup(good.port);
    mkdirSync(outbox, { mode: 0o700 });
    chownSync(outbox, 65534, 65534);
    const l = await cli("outbox", "flush", "--config", config);
    assert.equal(l.code, 78);
    assert.match(l.err, /owned by another user \(uid 65534/);
  });
  test("an entry file owned by another user or writable by others is reported as unsafe and never sent", async () => {
    const { config, outbox } = setup(good.port);
    const id = await enqueue(outbox, { envelope: envelope("unsafe@rcpt.example"), message: message(300, 1).source, reason });
    chmodSync(join(outbox, `${id}.json`), 0o666);
    const before = good.connectionCount;
    const r = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(r.code, 65, r.out);
    const [o] = JSON.parse(r.out).outcomes;
    assert.deepEqual([o.id, o.status], [id, "corrupt"]);
    assert.match(o.error.message, /writable by every user/);
    assert.equal(good.connectionCount, before);
    const l = await cli("outbox", "list", "--config", config);
    assert.equal(l.code, 65);
    assert.match(l.out, new RegExp(`${id}: CORRUPT \\(unsafe\\)`));
    if (isRoot) {
      const id2 = await enqueue(outbox, { envelope: envelope("unsafe2@rcpt.example"), message: message(300, 9).source, reason });
      chownSync(join(outbox, `${id2}.eml`), 65534, 65534);
      const r2 = await cli("outbox", "list", "--config", config);
      assert.match(r2.out, new RegExp(`${id2}: CORRUPT \\(unsafe\\): ${id2}\\.eml is owned by another user`));
    }
  });
});

describe("F4: symlinks and special files inside the outbox", () => {
  test("an .eml that is a symlink (to a victim file) is refused: nothing read from it leaves", async () => {
    const { dir, config, outbox } = setup(good.port);
    const victim = join(dir, "victim.txt");
    writeFileSync(victim, "VICTIM-SECRET-CONTENT");
    const id = await enqueue(outbox, { envelope: envelope("sym@rcpt.example"), message: message(21, 2).source, reason });
    rmSync(join(outbox, `${id}.eml`));
    symlinkSync(victim, join(outbox, `${id}.eml`));
    const r = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(r.code, 65, r.out);
    assert.match(JSON.parse(r.out).outcomes[0].error.message, /symbolic link/);
    assert.ok(!good.connections.some((c) => c.bodies.some((b) => new TextDecoder().decode(b).includes("VICTIM"))));
  });
  test("a FIFO in place of an .eml does not hang list or flush", async () => {
    const { config, outbox } = setup(good.port);
    const id = await enqueue(outbox, { envelope: envelope("fifo@rcpt.example"), message: message(300, 3).source, reason });
    rmSync(join(outbox, `${id}.eml`));
    try {
      execFileSync("mkfifo", [join(outbox, `${id}.eml`)]);
    } catch {
      return; // no mkfifo here
    }
    const l = await cli("outbox", "list", "--config", config);
    assert.match(l.out, /is not a regular file/);
    const r = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(JSON.parse(r.out).outcomes[0].status, "corrupt");
  });
});

describe("F2: an entry never chooses the config", () => {
  test("a planted entry naming a planted config (password: { file: /victim }) sends nothing read from the victim", async () => {
    const attacker = await startHostile({ starttls: false, maxLifetimeMs: 60_000, authMechanisms: ["PLAIN", "LOGIN"] });
    try {
      const { dir, config, outbox } = setup(good.port);
      const victim = join(dir, "victim-secret");
      writeFileSync(victim, "hunter2-victim");
      const planted = join(dir, "planted.yaml");
      writeFileSync(planted, `version: 1
relays: { evil: { host: 127.0.0.1, port: ${attacker.port}, strategy: plain, security: { tls: none, allow_plaintext_auth: true }, auth: { user: x, password: { file: ${victim} } } } }
routes: [{ name: all, via: [evil] }]
`);
      const id = await enqueue(outbox, { envelope: envelope("planted@rcpt.example"), config: planted, message: message(400, 4).source, reason });
      // With --config: the user's config and plan, never the planted one.
      const r = await cli("outbox", "flush", "--config", config, "--json");
      assert.equal(r.code, 0, r.out + r.err);
      const [o] = JSON.parse(r.out).outcomes;
      assert.deepEqual([o.id, o.status], [id, "delivered"]);
      assert.match(o.notes[0], /queued with the config .*planted\.yaml; sent along the plan of .*mail\.yaml/);
      assert.equal(attacker.connectionCount, 0);
      assert.ok(!good.sawCredential("hunter2-victim"));
      // Without any config: refused, saying where it looked (the entry's config is never a fallback).
      await enqueue(outbox, { envelope: envelope("planted2@rcpt.example"), config: planted, message: message(400, 5).source, reason });
      const none = await cliIn({ HOME: dir, XDG_CONFIG_HOME: join(dir, "xdg"), MAILPLAN_OUTBOX: outbox }, "outbox", "flush");
      assert.equal(none.code, 78, none.out + none.err);
      assert.match(none.err, new RegExp(`none was found \\(looked for ${join(dir, "xdg").replace(/[.]/g, "\\.")}/mailplan/mail\\.yaml, /etc/mailplan/mail\\.yaml\\)`));
      assert.equal(attacker.connectionCount, 0);
    } finally {
      await attacker.close();
    }
  });
});

describe("F3: the message is checked before its first byte is sent", () => {
  test("an .eml swapped after enqueue (same length) is moved to the failed folder, reported, and never sent", async () => {
    const { config, outbox } = setup(good.port);
    const m = message(500, 6);
    const id = await enqueue(outbox, { envelope: envelope("swap@rcpt.example"), message: m.source, reason });
    const other = join(outbox, "other");
    writeFileSync(other, Buffer.from(m.bytes).toString("latin1").replace("Subject: t", "Subject: X"), "latin1");
    renameSync(other, join(outbox, `${id}.eml`));
    const before = good.connectionCount;
    const r = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(r.code, 69, r.out);
    const [o] = JSON.parse(r.out).outcomes;
    assert.deepEqual([o.id, o.status, o.error.code], [id, "failed", "MESSAGE_INVALID"]);
    assert.match(o.error.message, /SHA-256/);
    assert.equal(good.connectionCount, before, "not even a connection");
    assert.deepEqual((await list(outbox)).entries, []);
    assert.deepEqual((await listFailed(outbox)).entries.map((e) => e.id), [id]);
    assert.match(readFileSync(join(outbox, "failed", `${id}.json`), "utf8"), /changed on disk/);
  });
});

