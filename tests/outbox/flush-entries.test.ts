/**
 * Flush entry by entry (threat F5, issue 8 §4): a bad entry (truncated JSON, wrong types, empty
 * pending, NO_ROUTE, a bad address, a config that no longer exists) is reported with its id and
 * reason and the others still go; `list` shows corrupt entries; the exit status is non-zero while
 * any is corrupt or failed. Permanent failures and entries older than outbox_max_age move to the
 * failed folder, never retried; `list --failed`, `show`, `retry` work on them.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { enqueue, list, listFailed } from "../../lib/outbox/mod.ts";
import { type HostileServer, startHostile } from "../support/hostile-server.ts";
import { cli, deliveredTo, send, setup, writeConfig } from "./cli-helpers.ts";
import { message } from "./helpers.ts";

let good: HostileServer;
before(async () => (good = await startHostile({ starttls: false, maxLifetimeMs: 120_000 })), { timeout: 120_000 });
after(async () => await good?.close());
const reason = { code: "TEMPORARY_FAILURE" as const, message: "451 later" };

function editState(outbox: string, id: string, edit: (text: string) => string) {
  const p = join(outbox, `${id}.json`);
  writeFileSync(p, edit(readFileSync(p, "utf8")), { mode: 0o600 });
}

describe("F5: each entry on its own", () => {
  test("bad entries are reported with id and reason, healthy ones are still delivered, exit non-zero", async () => {
    const { config, outbox } = setup(good.port, "", undefined);
    writeConfig(config, good.port);
    // Routes only *@rcpt.example: anything else has no route.
    writeFileSync(config, readFileSync(config, "utf8").replace("routes: [{ name: all, via: [r] }]", `routes: [{ name: rcpt, match: { to: "*@rcpt.example" }, via: [r] }]`));
    const q = (to: string, n: number, extra: Record<string, unknown> = {}) =>
      enqueue(outbox, { envelope: { from: "a@sender.example", recipients: [to] }, message: message(300, n).source, reason, ...extra });
    const healthy = await q("ok1@rcpt.example", 1);
    const truncated = await q("t@rcpt.example", 2);
    editState(outbox, truncated, (t) => t.slice(0, t.length / 2));
    const wrongType = await q("w@rcpt.example", 3);
    editState(outbox, wrongType, (t) => t.replace(/"size": (\d+)/, `"size": "$1"`));
    const empty = await q("e@rcpt.example", 4);
    editState(outbox, empty, (t) => t.replace(/"pending": \[[^\]]*\]/, `"pending": []`));
    const noRoute = await q("n@elsewhere.example", 5);
    const badAddress = await q("b@rcpt.example", 6);
    editState(outbox, badAddress, (t) => t.replaceAll("b@rcpt.example", "not an address"));
    const goneConfig = await q("ok2@rcpt.example", 7, { config: "/nonexistent/deleted.yaml" });

    const listed = await cli("outbox", "list", "--config", config);
    assert.equal(listed.code, 65, "list: non-zero while an entry is corrupt");
    assert.match(listed.out, new RegExp(`${truncated}: CORRUPT \\(corrupt\\): ${truncated}\\.json: not valid JSON`));
    assert.match(listed.out, new RegExp(`${wrongType}: CORRUPT \\(corrupt\\): ${wrongType}\\.json: bad message facts`));

    const before = deliveredTo(good).length;
    const r = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(r.code, 65, r.out);
    const by = Object.fromEntries(JSON.parse(r.out).outcomes.map((o: { id: string; status: string; error: { code: string; message: string } | null }) => [o.id, o]));
    assert.equal(by[healthy].status, "delivered");
    assert.equal(by[goneConfig].status, "delivered");
    assert.equal(by[truncated].status, "corrupt");
    assert.equal(by[wrongType].status, "corrupt");
    assert.deepEqual([by[empty].status, by[empty].error.code], ["failed", "MESSAGE_INVALID"]);
    assert.deepEqual([by[noRoute].status, by[noRoute].error.code], ["failed", "NO_ROUTE"]);
    assert.deepEqual([by[badAddress].status, by[badAddress].error.code], ["failed", "MESSAGE_INVALID"]);
    assert.deepEqual(deliveredTo(good).slice(before).sort(), ["ok1@rcpt.example", "ok2@rcpt.example"]);
    // Human output names every bad entry.
    const again = await cli("outbox", "flush", "--config", config);
    assert.equal(again.code, 65);
    for (const id of [truncated, wrongType]) assert.match(again.out, new RegExp(`${id}: CORRUPT \\(not sent\\)`));
    assert.deepEqual((await listFailed(outbox)).entries.map((e) => e.id).sort(), [empty, noRoute, badAddress].sort());
  });
});

describe("dead letters", () => {
  test("5xx for every recipient: moved to the failed folder, never retried; list --failed, show, retry", async () => {
    const refusing = await startHostile({ starttls: false, maxLifetimeMs: 60_000, rules: [{ on: "RCPT", reply: "550 5.1.1 no such user" }] });
    try {
      const { config, outbox } = setup(refusing.port);
      const id = JSON.parse((await send(config, "dead@rcpt.example", "--queue")).out).queued.id;
      const r = await cli("outbox", "flush", "--config", config, "--json");
      assert.equal(r.code, 69, r.out);
      const [o] = JSON.parse(r.out).outcomes;
      assert.deepEqual([o.id, o.status, o.error.code], [id, "failed", "REJECTED"]);
      const n = refusing.connectionCount;
      assert.equal((await cli("outbox", "flush", "--config", config)).code, 0, "nothing left to try");
      assert.equal(refusing.connectionCount, n, "a dead letter is never retried");

      const l = await cli("outbox", "list", "--config", config);
      assert.equal(l.code, 69, "non-zero while a failed entry exists");
      assert.match(l.out, /0 messages in .*\n1 failed message \(never retried\): mailplan outbox list --failed/);
      const lf = await cli("outbox", "list", "--failed", "--config", config);
      assert.match(lf.out, new RegExp(`${id}  \\d+s old  from a@sender\\.example to dead@rcpt\\.example  "to dead@rcpt\\.example"  1 attempt, failed: REJECTED`));
      const show = await cli("outbox", "show", id, "--config", config);
      assert.equal(show.code, 0, show.err);
      assert.match(show.out, /FAILED/);
      assert.match(show.out, /subject: +to dead@rcpt\.example/);
      assert.match(show.out, /to: +dead@rcpt\.example/);
      assert.match(show.out, /attempts: +1/);
      assert.match(show.out, /last error: REJECTED/);
      assert.doesNotMatch(show.out, /sha256|s3cret/);

      writeConfig(config, good.port); // the recipient exists now (on the good server)
      const back = await cli("outbox", "retry", id, "--config", config);
      assert.equal(back.code, 0, back.err);
      assert.deepEqual((await listFailed(outbox)).entries, []);
      const before = deliveredTo(good).length;
      const f = await cli("outbox", "flush", "--config", config, "--json");
      assert.equal(f.code, 0, f.out);
      assert.deepEqual(deliveredTo(good).slice(before), ["dead@rcpt.example"]);
      assert.equal((await cli("outbox", "retry", id, "--config", config)).code, 64);
    } finally {
      await refusing.close();
    }
  });

  test("a message the server's SIZE refuses is a dead letter", async () => {
    const small = await startHostile({ starttls: false, maxLifetimeMs: 60_000, size: 100 });
    try {
      const { config } = setup(small.port);
      await send(config, "big@rcpt.example", "--queue");
      const r = await cli("outbox", "flush", "--config", config, "--json");
      const [o] = JSON.parse(r.out).outcomes;
      assert.equal(o.status, "failed", r.out);
      assert.equal(r.code, 69);
    } finally {
      await small.close();
    }
  });

  test("an entry older than outbox_max_age is moved to the failed folder without being tried", async () => {
    const { config, outbox } = setup(good.port, "outbox_max_age: 1h\n");
    const id = await enqueue(outbox, { envelope: { from: "a@sender.example", recipients: ["old@rcpt.example"] }, message: message(300, 8).source, reason, now: new Date(Date.now() - 2 * 3_600_000) });
    const fresh = await enqueue(outbox, { envelope: { from: "a@sender.example", recipients: ["fresh@rcpt.example"] }, message: message(300, 9).source, reason });
    const before = deliveredTo(good).length;
    const r = await cli("outbox", "flush", "--config", config, "--json");
    assert.equal(r.code, 69, r.out);
    const by = Object.fromEntries(JSON.parse(r.out).outcomes.map((o: { id: string }) => [o.id, o]));
    assert.equal(by[id].status, "failed");
    assert.match(by[id].error.message, /outbox_max_age \(1h\).*451 later/);
    assert.equal(by[fresh].status, "delivered");
    assert.deepEqual(deliveredTo(good).slice(before), ["fresh@rcpt.example"]);
    assert.deepEqual((await list(outbox)).entries, []);
    const check = await cli("check", "--config", config);
    assert.equal(check.code, 0, check.out);
    setup(good.port, "outbox_max_age: 5 days\n", join(config, ".."));
    assert.equal((await cli("check", "--config", config)).code, 78);
  });
});
