/** Outbox storage: the folder rule, byte-exact round trip, list/read/drop, per-recipient state. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { MailplanError } from "../../lib/codes.ts";
import {
  drop, enqueue, isDue, isOutboxId, list, markAttempt, newOutboxId, open, outboxDir, read, markInflight, withLock,
} from "../../lib/outbox/mod.ts";
import { collect, message, tempDir } from "./helpers.ts";

let base = "";
before(() => (base = tempDir("store")));
after(() => rmSync(base, { recursive: true, force: true }));
const reason = { code: "TEMPORARY_FAILURE" as const, message: "451 4.3.0 try later" };
const envelope = { from: "s@example.com", recipients: ["a@x", "b@x", "c@x"] };

describe("outboxDir", () => {
  it("config outbox: relative to the config file, absolute as is, ~ expanded", () => {
    assert.equal(outboxDir("spool/out", "/etc/mailplan", {}, "linux"), "/etc/mailplan/spool/out");
    assert.equal(outboxDir("/var/spool/x", "/etc/mailplan", { MAILPLAN_OUTBOX: "/o" }, "linux"), "/var/spool/x");
    assert.equal(outboxDir("~/ob", "/etc", { HOME: "/home/u" }, "linux"), "/home/u/ob");
  });
  it("then $MAILPLAN_OUTBOX, then the state directory", () => {
    assert.equal(outboxDir(null, "/etc", { MAILPLAN_OUTBOX: "/o", XDG_STATE_HOME: "/s" }, "linux"), "/o");
    assert.equal(outboxDir(undefined, undefined, { XDG_STATE_HOME: "/s", HOME: "/h" }, "linux"), "/s/mailplan/outbox");
    assert.equal(outboxDir(null, null, { HOME: "/h" }, "linux"), "/h/.local/state/mailplan/outbox");
    assert.equal(outboxDir(null, null, { HOME: "/h", XDG_STATE_HOME: "rel" }, "linux"), "/h/.local/state/mailplan/outbox");
    assert.equal(outboxDir(null, null, { HOME: "/h" }, "darwin"), "/h/Library/Application Support/mailplan/outbox");
  });
  it("enqueue creates it with mode 0700 and files with 0600", async () => {
    const dir = join(base, "new", "outbox");
    const id = await enqueue(dir, { envelope, message: message().source, reason });
    if (process.platform !== "win32") {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, `${id}.eml`)).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, `${id}.json`)).mode & 0o777, 0o600);
    }
  });
});

describe("ids", () => {
  it("sort by time, are unique and file-name safe", () => {
    const a = newOutboxId(new Date("2026-01-02T03:04:05.678Z"));
    const b = newOutboxId(new Date("2026-01-02T03:04:05.679Z"));
    assert.match(a, /^20260102T030405678Z-[a-z2-7]{12}$/);
    assert.ok(a < b);
    assert.ok(isOutboxId(a));
    assert.equal(new Set(Array.from({ length: 1000 }, () => newOutboxId())).size, 1000);
    for (const bad of ["../x", "", "20260102T030405678Z-ABC", "x.json"]) assert.equal(isOutboxId(bad), false);
  });
});

describe("enqueue / read / open", () => {
  it("round trip is byte-exact, with the state file describing it", async () => {
    const dir = join(base, "rt");
    const m = message(300_000, 42);
    const id = await enqueue(dir, { envelope, route: "alerts", message: m.source, reason, attempts: [{ at: "2026-01-01T00:00:00.000Z", relay: "primary", accepted: [], rejected: [], error: reason }] });
    assert.deepEqual(readFileSync(join(dir, `${id}.eml`)), Buffer.from(m.bytes));
    const e = await read(dir, id);
    assert.equal(e.version, 1);
    assert.equal(e.id, id);
    assert.deepEqual(e.envelope, envelope);
    assert.deepEqual(e.pending, envelope.recipients);
    assert.deepEqual(e.done, []);
    assert.equal(e.route, "alerts");
    assert.equal(e.attempts.length, 1);
    assert.equal(e.messageId, "<m42@example.com>");
    assert.equal(e.size, m.source.size);
    assert.equal(e.bytes, m.bytes.length);
    assert.equal(e.has8bit, true);
    assert.equal(isDue(e, new Date()), false); // one attempt made: retry later
    const src = await open(dir, id);
    assert.equal(src.size, m.source.size);
    assert.equal(src.messageId, "<m42@example.com>");
    assert.deepEqual(await collect(src.open()), m.bytes);
    assert.deepEqual(await collect(src.open()), m.bytes); // re-readable (failover)
    assert.deepEqual(readdirSync(dir).sort(), [`${id}.eml`, `${id}.json`]); // no temp or lock left
  });
  it("an empty message and a message of exactly one read chunk round-trip", async () => {
    const dir = join(base, "edge");
    for (const size of [0, 65536]) {
      const bytes = new Uint8Array(size).fill(65);
      const id = await enqueue(dir, { envelope, message: { size, has8bit: false, needsSmtpUtf8: false, messageId: null, async *open() { yield bytes; } }, reason });
      assert.deepEqual(await collect((await open(dir, id)).open()), bytes);
    }
  });
  it("a message file damaged on disk is refused before its first byte is streamed (F3)", async () => {
    const dir = join(base, "dmg");
    const m = message(2000, 3);
    const id = await enqueue(dir, { envelope, message: m.source, reason });
    const p = join(dir, `${id}.eml`);
    const b = readFileSync(p);
    const opened = await open(dir, id); // checked here: still intact
    b[100] ^= 1;
    writeFileSync(p, b);
    await assert.rejects(open(dir, id), (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID");
    // Swapped after the first check: open() checks again before yielding any chunk.
    const it = opened.open()[Symbol.asyncIterator]();
    await assert.rejects(it.next(), (e: unknown) => e instanceof MailplanError && e.code === "MESSAGE_INVALID");
  });
  it("a failing message stream leaves nothing behind", async () => {
    const dir = join(base, "fail");
    const source = { ...message().source, async *open() { yield new Uint8Array(10); throw new Error("disk gone"); } };
    await assert.rejects(enqueue(dir, { envelope, message: source, reason }), /disk gone/);
    assert.deepEqual(readdirSync(dir), []);
  });
  it("recipients already settled by send are not pending", async () => {
    const dir = join(base, "settled");
    const id = await enqueue(dir, { envelope, message: message().source, reason, done: [{ address: "a@x", relay: "p" }], rejected: [{ address: "c@x", code: 550, text: "no" }] });
    const e = await read(dir, id);
    assert.deepEqual(e.pending, ["b@x"]);
    assert.deepEqual(e.done.map((d) => d.address), ["a@x"]);
    assert.deepEqual(e.rejected.map((d) => d.address), ["c@x"]);
  });
});

describe("list / drop", () => {
  it("lists oldest first; drop removes both files; unknown ids get the list as hint", async () => {
    const dir = join(base, "ld");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await enqueue(dir, { envelope, message: message(100, i).source, reason, now: new Date(Date.UTC(2026, 0, 1, 0, 0, 3 - i)) }));
    const l = await list(dir);
    assert.deepEqual(l.entries.map((e) => e.id), [...ids].reverse());
    assert.deepEqual(l.problems, []);
    const dropped = await drop(dir, ids[1]);
    assert.equal(dropped?.id, ids[1]);
    assert.equal(readdirSync(dir).some((n) => n.startsWith(ids[1])), false);
    const unknown = ids[1];
    await assert.rejects(drop(dir, unknown), (e: unknown) => {
      assert.ok(e instanceof MailplanError);
      assert.equal(e.code, "USAGE");
      assert.match(e.message, new RegExp(unknown));
      assert.match(e.hint, new RegExp(`${ids[2]}, ${ids[0]}`));
      return true;
    });
    await assert.rejects(read(dir, "../../etc/passwd"), (e: unknown) => e instanceof MailplanError && e.code === "USAGE");
    await assert.rejects(drop(join(base, "nothing-here"), ids[0]), (e: unknown) => e instanceof MailplanError && /empty/.test(e.hint));
  });
  it("a missing outbox lists as empty", async () => {
    assert.deepEqual(await list(join(base, "absent")), { entries: [], problems: [] });
  });
  it("drop refuses an entry another process is sending", async () => {
    const dir = join(base, "busy");
    const id = await enqueue(dir, { envelope, message: message().source, reason });
    writeFileSync(join(dir, `${id}.lock`), JSON.stringify({ pid: process.ppid, start: null, host: (await import("node:os")).hostname(), token: "t", at: "" }));
    await assert.rejects(drop(dir, id), (e: unknown) => e instanceof MailplanError && e.code === "TEMPORARY_FAILURE");
    rmSync(join(dir, `${id}.lock`));
    await drop(dir, id);
  });
  it("reports a state file without its message as corrupt, and never deletes it", async () => {
    const dir = join(base, "corrupt");
    const id = await enqueue(dir, { envelope, message: message().source, reason });
    rmSync(join(dir, `${id}.eml`));
    const l = await list(dir);
    assert.equal(l.entries.length, 0);
    assert.deepEqual(l.problems.map((p) => [p.id, p.kind, p.removed]), [[id, "corrupt", false]]);
    assert.ok(statSync(join(dir, `${id}.json`)));
    await drop(dir, id);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe("markAttempt", () => {
  it("moves accepted recipients to done for good and removes the entry when none is pending", async () => {
    const dir = join(base, "mark");
    const id = await enqueue(dir, { envelope, message: message().source, reason });
    const began = await markInflight(dir, id, { relay: "primary" });
    assert.deepEqual(began.inflight?.recipients, envelope.recipients);
    const r1 = await markAttempt(dir, id, { relay: "primary", accepted: ["a@x"], rejectedPermanent: [], temporaryError: reason });
    assert.equal(r1.removed, false);
    const e = await read(dir, id);
    assert.deepEqual(e.pending, ["b@x", "c@x"]);
    assert.deepEqual(e.done.map((d) => [d.address, d.relay]), [["a@x", "primary"]]);
    assert.equal(e.inflight, null);
    assert.equal(e.attempts.length, 1);
    assert.ok(Date.parse(e.nextAttempt) > Date.now());
    // a@x again (a confused caller) changes nothing: never pending again.
    await markAttempt(dir, id, { accepted: ["a@x"], rejectedPermanent: [{ address: "c@x", code: 550, text: "5.1.1 unknown" }], temporaryError: reason });
    const e2 = await read(dir, id);
    assert.deepEqual(e2.pending, ["b@x"]);
    assert.deepEqual(e2.done.map((d) => d.address), ["a@x"]);
    assert.deepEqual(e2.rejected.map((r) => [r.address, r.code]), [["c@x", 550]]);
    const r3 = await markAttempt(dir, id, { accepted: ["b@x"], rejectedPermanent: [], temporaryError: null });
    assert.equal(r3.removed, true);
    assert.deepEqual(r3.entry.done.map((d) => d.address), ["a@x", "b@x"]);
    assert.deepEqual(readdirSync(dir), []);
  });
  it("withLock reads the current state, and reports entries gone meanwhile", async () => {
    const dir = join(base, "wl");
    const id = await enqueue(dir, { envelope, message: message().source, reason });
    const r = await withLock(dir, id, async (entry, lock) => {
      assert.equal((await withLock(dir, id, () => Promise.resolve(1))).status, "busy"); // held, even in-process
      await assert.rejects(markAttempt(dir, id, { accepted: [], rejectedPermanent: [], temporaryError: null }), (e: unknown) => e instanceof MailplanError && e.code === "TEMPORARY_FAILURE");
      return (await markAttempt(dir, id, { accepted: entry.pending, rejectedPermanent: [], temporaryError: null }, lock)).removed;
    });
    assert.deepEqual(r, { status: "done", value: true });
    assert.deepEqual(await withLock(dir, id, () => Promise.resolve(1)), { status: "gone" });
    assert.deepEqual(readdirSync(dir), []);
  });
});
