/**
 * Child process for the outbox tests (run by tests/outbox/*.test.ts with the current runtime):
 *   lockgo DIR ID GO RELEASE       print "ready", wait for the file GO, take ID's lock, print "won" or "busy"; a winner holds it until the file RELEASE exists
 *   hold DIR ID                    take ID's lock, print "locked", wait to be killed
 *   breakcrash DIR ID              take ID's (stale) lock, SIGKILL itself while holding the break mutex
 *   crash DIR STEP                 enqueue then mark attempts, SIGKILL itself at the hook STEP[#N]
 *   churn DIR LOG SEED             enqueue and deliver forever, journaling to LOG, until killed
 */
import { appendFileSync, existsSync } from "node:fs";
import process from "node:process";
import { tryLock } from "../../lib/outbox/lock.ts";
import { outboxHooks } from "../../lib/outbox/atomic.ts";
import { markInflight, enqueue, list, markAttempt, withLock } from "../../lib/outbox/store.ts";
import { message, rng, sleep } from "./helpers.ts";

const [mode, dir, ...rest] = process.argv.slice(2);
const say = (s: string) => process.stdout.write(s + "\n");

if (mode === "lockgo") {
  const [id, go, release] = rest;
  say("ready");
  while (!existsSync(go)) await sleep(1);
  const lock = await tryLock(dir, id);
  say(lock ? "won" : "busy");
  if (lock) {
    while (!existsSync(release)) await sleep(1);
    await lock.release();
  }
} else if (mode === "hold") {
  const lock = await tryLock(dir, rest[0]);
  say(lock ? "locked" : "busy");
  await sleep(30_000);
} else if (mode === "breakcrash") {
  outboxHooks.step = (name) => {
    if (name === "lock-break-held") process.kill(process.pid, "SIGKILL");
  };
  await tryLock(dir, rest[0]);
  say("not killed");
} else if (mode === "crash") {
  const [target, nth = "1"] = rest[0].split("#"); // "state-renamed#2": the second time that step runs
  let seen = 0;
  outboxHooks.step = (name) => {
    if (name === target && ++seen === Number(nth)) process.kill(process.pid, "SIGKILL");
  };
  const m = message(5000, 7);
  const id = await enqueue(dir, { envelope: { from: "s@example.com", recipients: ["a@x", "b@x", "c@x"] }, message: m.source, reason: { code: "TEMPORARY_FAILURE", message: "451" } });
  say(`queued ${id}`);
  await markInflight(dir, id, { relay: "r1" });
  await markAttempt(dir, id, { relay: "r1", accepted: ["a@x"], rejectedPermanent: [], temporaryError: { code: "TEMPORARY_FAILURE", message: "451" } });
  say("marked");
  await markAttempt(dir, id, { relay: "r1", accepted: ["b@x"], rejectedPermanent: [{ address: "c@x", code: 550, text: "no" }], temporaryError: null });
  say("removed");
} else if (mode === "churn") {
  const [log, seed] = rest;
  const rand = rng(Number(seed));
  const j = (line: string) => appendFileSync(log, line + "\n");
  say("ready");
  const parent = process.ppid;
  const deadline = Date.now() + 60_000; // never outlive a failed test run
  for (let n = 0;; n++) {
    if (Date.now() > deadline || process.ppid !== parent) process.exit(2);
    if (rand() < 0.45) {
      const m = message(200 + Math.floor(rand() * 150_000), Math.floor(rand() * 1e9));
      const recipients = ["r1@x", "r2@x", "r3@x", "r4@x"].slice(0, 1 + Math.floor(rand() * 4));
      const id = await enqueue(dir, { envelope: { from: "s@x", recipients }, message: m.source, reason: { code: "TEMPORARY_FAILURE", message: "451 later" } });
      j(`Q ${id} ${recipients.join(",")}`);
    }
    const { entries } = await list(dir);
    if (entries.length === 0) continue;
    const pick = entries[Math.floor(rand() * entries.length)];
    await withLock(dir, pick.id, async (entry, lock) => {
      if (entry.inflight) j(`U ${entry.id}`); // a previous attempt died: outcome unknown
      await markInflight(dir, entry.id, { relay: "sim" }, lock);
      const accepted = entry.pending.filter(() => rand() < 0.5);
      const rejected = entry.pending.filter((p) => !accepted.includes(p) && rand() < 0.2);
      for (const a of accepted) j(`D ${entry.id} ${a}`); // the simulated server's final 250
      for (const r of rejected) j(`X ${entry.id} ${r}`);
      await markAttempt(dir, entry.id, { relay: "sim", accepted, rejectedPermanent: rejected.map((address) => ({ address, code: 550, text: "no" })), temporaryError: { code: "TEMPORARY_FAILURE", message: "451" } }, lock);
      for (const a of accepted) j(`A ${entry.id} ${a}`);
      for (const r of rejected) j(`R ${entry.id} ${r}`);
    });
  }
}
