/**
 * An outbox that cannot be written (threat F6: full disk, read-only or missing folder, EACCES)
 * never stops a send and never leaves a temporary file: the message goes out anyway, the warning
 * is on stderr and in the JSON (`outbox.error`), and a send that then fails temporarily exits 75
 * saying it was NOT queued. After the server's final 250, no local failure changes `ok: true` /
 * exit 0 (issue 8 §5). Faults are injected at each write step (outboxHooks), and, where mount is
 * permitted (root), on a real 64 KiB tmpfs and a read-only one.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { outboxHooks } from "../../lib/outbox/atomic.ts";
import { list } from "../../lib/outbox/mod.ts";
import { type HostileServer, startHostile } from "../support/hostile-server.ts";
import { cli, deliveredTo, send, setup, temps } from "./cli-helpers.ts";

let good: HostileServer;
let busy: HostileServer; // 451 to MAIL: a temporary failure
before(async () => {
  good = await startHostile({ starttls: false, maxLifetimeMs: 120_000 });
  busy = await startHostile({ starttls: false, maxLifetimeMs: 120_000, rules: [{ on: "MAIL", reply: "451 4.3.0 try later" }] });
}, { timeout: 120_000 });
after(async () => {
  await good?.close();
  await busy?.close();
});
afterEach(() => void (outboxHooks.step = null));

const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
/** Fails every time `name` runs (a full disk stays full). */
const failAt = (name: string) => void (outboxHooks.step = (s) => {
  if (s === name) throw enospc();
});

describe("F6: the outbox cannot be written", () => {
  for (const stepName of ["lock-open", "eml-open", "eml-write", "eml-written", "json-open", "json-written"]) {
    test(`storing fails at ${stepName}: sent anyway, warned on stderr and in the JSON, no temporary file left`, async () => {
      const { config, outbox } = setup(good.port);
      failAt(stepName);
      const before = deliveredTo(good).length;
      const r = await send(config, `${stepName}@rcpt.example`);
      outboxHooks.step = null;
      assert.equal(r.code, 0, r.out + r.err);
      const result = JSON.parse(r.out);
      assert.equal(result.ok, true);
      assert.match(result.outbox.error, /could not be stored in the outbox .*ENOSPC/);
      assert.match(r.err, /warning: outbox: .*ENOSPC/);
      assert.doesNotMatch(r.out + r.err, /internal error|this is a bug/i);
      assert.deepEqual(deliveredTo(good).slice(before), [`${stepName}@rcpt.example`]);
      assert.deepEqual(temps(outbox), []);
      assert.deepEqual(readdirSync(outbox).filter((n) => !n.endsWith(".lock")), []);
      const l = await cli("outbox", "list", "--config", config);
      assert.equal(l.code, 0, l.out + l.err);
    });
  }

  test("storing fails and the send then fails temporarily: exit 75, NOT queued, said in the human output too", async () => {
    const { config, outbox } = setup(busy.port);
    failAt("eml-write");
    const j = await send(config, "nq@rcpt.example");
    const h = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "nq@rcpt.example", "--subject", "s", "--text", "t");
    outboxHooks.step = null;
    assert.equal(j.code, 75, j.out);
    const result = JSON.parse(j.out);
    assert.equal(result.queued, undefined);
    assert.match(result.outbox.error, /ENOSPC/);
    assert.match(result.error.hint, /NOT queued/);
    assert.equal(h.code, 75);
    assert.match(h.err, /NOT queued/);
    assert.deepEqual(temps(outbox), []);
    assert.deepEqual((await list(outbox)).entries, []);
  });

  test("marking in flight fails before the dot: the entry is removed (never resent), the message still goes", async () => {
    const { config, outbox } = setup(good.port);
    failAt("state-open");
    const before = deliveredTo(good).length;
    const r = await send(config, "inflight@rcpt.example");
    outboxHooks.step = null;
    assert.equal(r.code, 0, r.out);
    assert.match(JSON.parse(r.out).outbox.error, /could not record the send in progress/);
    assert.deepEqual(deliveredTo(good).slice(before), ["inflight@rcpt.example"]);
    assert.deepEqual((await list(outbox)).entries, []);
    assert.deepEqual(temps(outbox), []);
  });

  test("after the final 250 a failing clean-up is a warning: ok stays true, exit 0, and no flush resends it", async () => {
    const { config, outbox } = setup(good.port);
    let armed = false;
    outboxHooks.step = (s) => {
      if (s === "state-renamed") armed = true; // in flight is recorded; the dot goes next
      if (armed && s === "remove-open") throw enospc();
    };
    const before = deliveredTo(good).length;
    const r = await send(config, "cleanup@rcpt.example");
    outboxHooks.step = null;
    assert.equal(r.code, 0, r.out);
    const result = JSON.parse(r.out);
    assert.equal(result.ok, true);
    assert.match(result.outbox.error, /delivered, but its outbox entry/);
    assert.deepEqual(deliveredTo(good).slice(before), ["cleanup@rcpt.example"]);
    // The state file stayed, flagged in flight (cut off): a flush reports it instead of resending.
    const f = await cli("outbox", "flush", "--config", config, "--json");
    assert.deepEqual(deliveredTo(good).slice(before), ["cleanup@rcpt.example"], "never sent twice");
    assert.equal(JSON.parse(f.out).outcomes[0].status, "interrupted");
    assert.equal(f.code, 75);
    assert.deepEqual(temps(outbox), []);
  });

  test("a missing outbox folder that cannot be created: sent anyway, with the warning", async () => {
    const { config } = setup(good.port);
    const r = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "missing@rcpt.example", "--subject", "s", "--text", "t", "--json");
    assert.equal(r.code, 0);
    const { writeFileSync, readFileSync } = await import("node:fs");
    writeFileSync(config, readFileSync(config, "utf8").replace("outbox: ./outbox", "outbox: /proc/no-such-dir/outbox"));
    const m = await send(config, "missing2@rcpt.example");
    assert.equal(m.code, 0, m.out + m.err);
    assert.match(JSON.parse(m.out).outbox.error, /could not be stored/);
    const l = await cli("outbox", "list", "--config", config);
    assert.equal(l.code, 0, l.err);
  });
});

/** Runs `fn` with a tmpfs mounted at a new folder; skips (returns false) where mount is not permitted. */
function withTmpfs(opts: string): { dir: string; umount: () => void } | null {
  const dir = mkdtempSync(join(tmpdir(), "mailplan-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmdirSync(dir);
    return null;
  }
  return { dir, umount: () => { execFileSync("umount", [dir], { stdio: "ignore" }); rmdirSync(dir); } };
}
const canMount = (() => {
  const t = withTmpfs("size=64k");
  t?.umount();
  return t !== null;
})();

describe("F6 on real filesystems", { skip: !canMount && "mount not permitted here" }, () => {
  test("a full 64 KiB tmpfs: a 200 KB message is still sent, nothing left behind, list works", async () => {
    const t = withTmpfs("size=64k,mode=0700")!;
    try {
      const { config } = setup(good.port, "", mkdtempSync(join(tmpdir(), "mailplan-full-")));
      const { writeFileSync, readFileSync } = await import("node:fs");
      writeFileSync(config, readFileSync(config, "utf8").replace("outbox: ./outbox", `outbox: ${t.dir}/outbox`));
      const big = join(t.dir, "..", `big-${Date.now()}.txt`);
      writeFileSync(big, "x".repeat(200_000));
      const before = deliveredTo(good).length;
      const r = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "full@rcpt.example", "--subject", "s", "--text-file", big, "--json");
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(JSON.parse(r.out).outbox.error, /ENOSPC|no space/i);
      assert.deepEqual(deliveredTo(good).slice(before), ["full@rcpt.example"]);
      assert.deepEqual(temps(join(t.dir, "outbox")), []);
      assert.deepEqual(readdirSync(join(t.dir, "outbox")).filter((n) => !n.endsWith(".lock")), []);
      assert.equal((await cli("outbox", "list", "--config", config)).code, 0);
    } finally {
      t.umount();
    }
  });
  test("a read-only folder: list works, send warns (EROFS) and sends", async () => {
    const t = withTmpfs("size=1m,mode=0700")!;
    try {
      const { config } = setup(good.port, "", mkdtempSync(join(tmpdir(), "mailplan-ro-")));
      const { writeFileSync, readFileSync } = await import("node:fs");
      writeFileSync(config, readFileSync(config, "utf8").replace("outbox: ./outbox", `outbox: ${t.dir}/outbox`));
      mkdirSync(join(t.dir, "outbox"), { mode: 0o700 });
      assert.equal((await send(config, "q@rcpt.example", "--queue")).code, 75);
      execFileSync("mount", ["-o", "remount,ro", t.dir], { stdio: "ignore" });
      const l = await cli("outbox", "list", "--config", config);
      assert.equal(l.code, 0, l.err);
      assert.match(l.out, /1 message in/);
      const r = await send(config, "ro@rcpt.example");
      assert.equal(r.code, 0, r.out);
      assert.match(JSON.parse(r.out).outbox.error, /EROFS|read-only/i);
      // flush cannot lock (the disk is read-only): the entry is kept as it is, not called corrupt.
      const f = await cli("outbox", "flush", "--config", config, "--json");
      assert.equal(f.code, 75, f.out + f.err);
      const [o] = JSON.parse(f.out).outcomes;
      assert.deepEqual([o.status, o.error.code], ["pending", "TEMPORARY_FAILURE"]);
      assert.match(o.error.message, /EROFS|read-only/i);
    } finally {
      t.umount();
    }
  });
});
