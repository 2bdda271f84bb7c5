/** Entry locks: one winner among racing processes, stale locks of dead processes taken over. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { cleanup, lockHolder, newOutboxId, tryLock } from "../../lib/outbox/mod.ts";
import { exited, printed, sleep, spawnWorker, tempDir } from "./helpers.ts";

let dir = "";
before(() => (dir = tempDir("lock")));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("tryLock", () => {
  it("in one process: held until released, then free again", async () => {
    const id = newOutboxId();
    const a = await tryLock(dir, id);
    assert.ok(a);
    assert.equal(await tryLock(dir, id), null);
    assert.equal((await lockHolder(dir, id))?.pid, process.pid);
    await a.release();
    await a.release();
    const b = await tryLock(dir, id);
    assert.ok(b);
    await b.release();
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes(id)), []);
  });

  it("processes racing for one entry: exactly one wins (4 entries × 4 processes, two with a stale lock)", { timeout: 120_000 }, async () => {
    // Every child waits for the go file (an event), not for a clock time, so a slow start-up
    // cannot make it miss the race; a winner holds the lock until the release file appears.
    const go = join(dir, "go"), release = join(dir, "release");
    const ids = [0, 1, 2, 3].map((round) => {
      const id = newOutboxId();
      if (round >= 2) writeFileSync(join(dir, `${id}.lock`), JSON.stringify({ pid: 2 ** 22 + round, start: null, host: hostname(), token: "s", at: "" }));
      return id;
    });
    const children = ids.flatMap((id) => Array.from({ length: 4 }, () => ({ id, child: spawnWorker(["lockgo", dir, id, go, release]) })));
    const done = children.map((c) => exited(c.child));
    await Promise.all(children.map((c) => printed(c.child, "ready")));
    writeFileSync(go, "");
    await Promise.all(children.map((c) => Promise.race([printed(c.child, "won"), printed(c.child, "busy")])));
    writeFileSync(release, "");
    const results = await Promise.all(done);
    for (const r of results) assert.equal(r.code, 0, r.err);
    for (const id of ids) {
      const outs = results.filter((_, i) => children[i].id === id).map((r) => r.out.replace("ready", "").trim()).sort();
      assert.deepEqual(outs, ["busy", "busy", "busy", "won"], `entry ${id}`);
      assert.equal(existsSync(join(dir, `${id}.lock`)), false);
    }
    rmSync(go);
    rmSync(release);
  });

  it("the lock of a process killed with SIGKILL is taken over", { timeout: 30_000 }, async () => {
    const id = newOutboxId();
    const child = spawnWorker(["hold", dir, id]);
    const done = exited(child);
    await printed(child, "locked");
    assert.equal(await tryLock(dir, id), null); // alive: busy
    assert.equal((await lockHolder(dir, id))?.pid, child.pid);
    child.kill("SIGKILL");
    await done;
    assert.equal(await lockHolder(dir, id), null);
    const lock = await tryLock(dir, id);
    assert.ok(lock, "stale lock taken over");
    await lock.release();
  });

  it("a lock whose pid was reused by a younger process is stale; a live one is not", async () => {
    const id = newOutboxId();
    const host = hostname();
    const write = (info: object) => writeFileSync(join(dir, `${id}.lock`), JSON.stringify({ host, token: "x", at: "", ...info }));
    write({ pid: process.pid, start: "1" }); // our pid, another start time: a previous life of the pid
    const l1 = await tryLock(dir, id);
    assert.ok(l1);
    await l1.release();
    if (existsSync(`/proc/${process.ppid}/stat`)) {
      write({ pid: process.ppid, start: "1" });
      const l2 = await tryLock(dir, id);
      assert.ok(l2, "pid reused: stale");
      await l2.release();
    }
    write({ pid: process.ppid, start: null }); // alive, start unknown: held
    assert.equal(await tryLock(dir, id), null);
    write({ pid: 2 ** 22 + 12345, start: null }); // no such process
    const l3 = await tryLock(dir, id);
    assert.ok(l3);
    await l3.release();
  });

  it("an unreadable lock file is held while fresh, stale when old; another host's only after an hour", async () => {
    const id = newOutboxId();
    const p = join(dir, `${id}.lock`);
    writeFileSync(p, "");
    assert.equal(await tryLock(dir, id), null);
    const old = new Date(Date.now() - 120_000);
    utimesSync(p, old, old);
    const l = await tryLock(dir, id);
    assert.ok(l);
    await l.release();
    writeFileSync(p, JSON.stringify({ pid: 2 ** 22 + 1, start: null, host: "elsewhere", token: "y", at: "" }));
    assert.equal(await tryLock(dir, id), null);
    const older = new Date(Date.now() - 2 * 3600_000);
    utimesSync(p, older, older);
    const l2 = await tryLock(dir, id);
    assert.ok(l2);
    await l2.release();
  });

  it("a break mutex left by a dead taker is broken; a live taker's is respected", async () => {
    const id = newOutboxId();
    const host = hostname();
    const stale = JSON.stringify({ pid: 2 ** 22 + 3, start: null, host, token: "s", at: "" });
    const lockFile = join(dir, `${id}.lock`);
    const mutex = `${lockFile}.break`;
    writeFileSync(lockFile, stale);
    writeFileSync(mutex, JSON.stringify({ pid: process.ppid, start: null, host, token: "m", at: "" })); // alive
    assert.equal(await tryLock(dir, id), null);
    writeFileSync(mutex, ""); // unreadable and fresh: a taker is writing it
    assert.equal(await tryLock(dir, id), null);
    writeFileSync(mutex, JSON.stringify({ pid: 2 ** 22 + 4, start: null, host, token: "d", at: "" })); // dead
    const l = await tryLock(dir, id);
    assert.ok(l);
    await l.release();
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes(id)), []);
  });

  it("a taker killed while breaking a stale lock leaves nothing that blocks the next one", { timeout: 30_000 }, async () => {
    const id = newOutboxId();
    writeFileSync(join(dir, `${id}.lock`), JSON.stringify({ pid: 2 ** 22 + 5, start: null, host: hostname(), token: "s", at: "" }));
    const r = await exited(spawnWorker(["breakcrash", dir, id]));
    assert.equal(r.signal, "SIGKILL", r.out + r.err);
    assert.ok(existsSync(join(dir, `${id}.lock.break`)));
    const l = await tryLock(dir, id);
    assert.ok(l);
    await l.release();
    await cleanup(dir); // removes the dead taker's lock candidate
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes(id)), []);
  });

  it("many in-process contenders for a stale lock: exactly one wins", async () => {
    for (let round = 0; round < 20; round++) {
      const id = newOutboxId();
      writeFileSync(join(dir, `${id}.lock`), JSON.stringify({ pid: 2 ** 22 + 7, start: null, host: hostname(), token: "z", at: "" }));
      const got = await Promise.all(Array.from({ length: 8 }, () => tryLock(dir, id)));
      assert.equal(got.filter(Boolean).length, 1, `round ${round}`);
      await got.find(Boolean)!.release();
    }
    await sleep(0);
  });
});
