/**
 * Crash safety: a process killed (SIGKILL) at each step of enqueue / markInflight / markAttempt,
 * and a kill loop where two processes enqueue and deliver concurrently while being killed after
 * a random number of journaled steps (waiting on the journal, never on time). Afterwards every
 * entry is whole (state parses, message matches its SHA-256) or cleanly absent, and the journal proves no recipient was lost or delivered twice unnoticed.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { cleanup, list, open, type OutboxEntry, withLock } from "../../lib/outbox/mod.ts";
import { collect, exited, printed, rng, sleep, spawnWorker, tempDir } from "./helpers.ts";

let base = "";
before(() => (base = tempDir("crash")));
after(() => rmSync(base, { recursive: true, force: true }));

/** Checks one entry under its lock: message intact, recipients partitioned. Returns false when busy/gone. */
async function checkEntry(dir: string, id: string): Promise<OutboxEntry | null> {
  const r = await withLock(dir, id, async (e) => {
    await collect((await open(dir, id)).open()); // throws on a length or SHA-256 mismatch
    const all = [...e.pending, ...e.done.map((d) => d.address), ...e.rejected.map((d) => d.address)];
    assert.equal(new Set(all).size, all.length, `${id}: a recipient in two states`);
    assert.deepEqual([...all].sort(), [...e.envelope.recipients].sort(), `${id}: recipients lost or invented`);
    assert.ok(e.pending.length > 0, `${id}: nothing pending but not removed`);
    return e;
  });
  return r.status === "done" ? r.value : null;
}

/** The folder after a cleanup list: only whole entries (and at most stale lock files). */
async function assertClean(dir: string): Promise<OutboxEntry[]> {
  await cleanup(dir);
  const { entries, problems } = await list(dir);
  assert.deepEqual(problems.filter((p) => p.kind === "corrupt"), []);
  const names = readdirSync(dir);
  assert.deepEqual(names.filter((n) => n.endsWith(".tmp") || n.endsWith(".break")), [], "temporary files left");
  for (const n of names.filter((n) => n.endsWith(".eml"))) assert.ok(names.includes(n.replace(/\.eml$/, ".json")), `${n} without state`);
  for (const n of names.filter((n) => n.endsWith(".json"))) assert.ok(names.includes(n.replace(/\.json$/, ".eml")), `${n} without message`);
  for (const e of entries) assert.ok(await checkEntry(dir, e.id));
  return entries;
}

describe("SIGKILL at each step", () => {
  // step → what the outbox holds afterwards (null: no entry)
  const cases: [string, null | { pending: string[]; inflight: boolean }][] = [
    ["eml-written#1", null],
    ["eml-renamed#1", null],
    ["json-written#1", null],
    ["json-renamed#1", { pending: ["a@x", "b@x", "c@x"], inflight: false }],
    ["state-written#1", { pending: ["a@x", "b@x", "c@x"], inflight: false }],
    ["state-renamed#1", { pending: ["a@x", "b@x", "c@x"], inflight: true }],
    ["state-written#2", { pending: ["a@x", "b@x", "c@x"], inflight: true }],
    ["state-renamed#2", { pending: ["b@x", "c@x"], inflight: false }],
    ["remove-json#1", null],
  ];
  for (const [stepName, expected] of cases) {
    it(`${stepName}: ${expected ? `entry kept, pending ${expected.pending.join(" ")}` : "no entry, nothing left"}`, { timeout: 30_000 }, async () => {
      const dir = join(base, stepName.replace("#", "-"));
      const r = await exited(spawnWorker(["crash", dir, stepName]));
      assert.equal(r.signal, "SIGKILL", r.err || r.out);
      const entries = await assertClean(dir);
      if (!expected) {
        assert.deepEqual(entries, []);
        assert.deepEqual(readdirSync(dir), []);
        return;
      }
      assert.equal(entries.length, 1);
      assert.deepEqual(entries[0].pending, expected.pending);
      assert.equal(entries[0].inflight !== null, expected.inflight);
    });
  }
  it("without a crash the worker finishes and leaves an empty outbox", { timeout: 30_000 }, async () => {
    const dir = join(base, "none");
    const r = await exited(spawnWorker(["crash", dir, "never"]));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /queued .*\nmarked\nremoved/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe("kill loop", () => {
  it("two processes enqueue and deliver while SIGKILLed at random 30 times: nothing lost, corrupt or silently duplicated", { timeout: 240_000 }, async () => {
    const dir = join(base, "loop");
    const log = join(base, "loop.log");
    const seed = Date.now() % 1e9;
    const rand = rng(seed);
    const msg = `seed ${seed}`;
    const slots: { child: ChildProcess; done: Promise<unknown>; ready: Promise<void> }[] = [];
    const journal = () => existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => /^[QDXARU] \S+/.test(l)) : [];
    const count = (k: string) => journal().filter((l) => l.startsWith(`${k} `)).length;
    const start = (i: number) => {
      const child = spawnWorker(["churn", dir, log, String(seed * 10 + i)]);
      slots[i] = { child, ready: printed(child, "ready").catch(() => {}), done: exited(child) };
    };
    start(0);
    start(1);
    const t0 = Date.now();
    try {
      for (let iter = 0; iter < 30; iter++) {
        const s = slots[iter % 2];
        await s.ready;
        // Kill after a random number of journaled steps (an event), never after a guessed time;
        // the first kills wait until enough was queued and acknowledged for the checks below.
        const base = journal().length;
        const need = 1 + Math.floor(rand() * 6);
        while (journal().length < base + need || (iter >= 10 && count("Q") < 10) || (iter >= 20 && count("A") + count("R") < 5)) await sleep(2);
        s.child.kill("SIGKILL");
        await s.done;
        start(iter % 2);
        // While the other process keeps working: every entry not busy is whole.
        const { problems, entries } = await list(dir);
        assert.deepEqual(problems.filter((p) => p.kind === "corrupt"), [], msg);
        for (const e of entries.slice(0, 5)) await checkEntry(dir, e.id);
      }
    } finally {
      for (const s of slots) s.child.kill("SIGKILL");
      await Promise.all(slots.map((s) => s.done));
    }
    const elapsed = Date.now() - t0;

    const entries = await assertClean(dir);
    const byId = new Map(entries.map((e) => [e.id, e]));
    const lines = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => /^[QDXARU] \S+/.test(l)) : [];
    const queued = new Map<string, string[]>();
    const delivered = new Map<string, number>();
    const unknown = new Set<string>();
    const settledIntent = new Set<string>();
    const acked: [string, string, "A" | "R"][] = [];
    for (const l of lines) {
      const [k, id, arg] = l.split(" ");
      if (k === "Q") queued.set(id, arg.split(","));
      if (k === "U") unknown.add(id);
      if (k === "D") delivered.set(`${id} ${arg}`, (delivered.get(`${id} ${arg}`) ?? 0) + 1);
      if (k === "D" || k === "X") settledIntent.add(`${id} ${arg}`);
      if (k === "A" || k === "R") acked.push([id, arg, k]);
    }
    assert.ok(queued.size >= 10, `only ${queued.size} messages queued: the loop did not exercise much (${msg})`);
    assert.ok(acked.length >= 5, msg);
    // Queued and gone ⇒ every recipient was delivered or refused (no message lost).
    for (const [id, recips] of queued) {
      const e = byId.get(id);
      if (!e) for (const r of recips) assert.ok(settledIntent.has(`${id} ${r}`), `${id} ${r} lost (${msg})`);
      else assert.deepEqual(e.envelope.recipients, recips, msg);
    }
    // An acknowledged outcome is durable: never pending again.
    for (const [id, addr, k] of acked) {
      const e = byId.get(id);
      if (!e) continue;
      assert.ok(!e.pending.includes(addr), `${id} ${addr} acknowledged but pending (${msg})`);
      if (k === "A") assert.ok(e.done.some((d) => d.address === addr), msg);
    }
    // Done only after a delivery; a second delivery only after a detected interrupted attempt.
    for (const e of entries) for (const d of e.done) assert.ok(delivered.has(`${e.id} ${d.address}`), msg);
    for (const [key, n] of delivered) if (n > 1) assert.ok(unknown.has(key.split(" ")[0]), `${key} delivered ${n} times unnoticed (${msg})`);
    console.log(`kill loop: ${elapsed} ms, ${queued.size} queued, ${acked.length} acknowledged, ${entries.length} left, ${unknown.size} interrupted attempts detected`);
  });
});
