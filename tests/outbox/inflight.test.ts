/**
 * "Unknown" only when the final dot may have gone out (threat F10, issue 8 §4):
 * - `send` keeps a DELIVERY_UNKNOWN transaction in the outbox flagged "cut off" (exit 75), and
 *   says the exact command that resends it;
 * - kill -9 of `send` / `outbox flush` at each point of a transaction: before the dot the entry
 *   is kept and NOT flagged (a flush sends it once); after the dot it is flagged and never resent
 *   blindly. Every kill waits for an event (the server saw the command), never for a time;
 * - `send` holds the entry's lock from store to outcome: a flush running in a loop beside sends
 *   never takes an entry a send is working on (no loss, no duplicate).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { list } from "../../lib/outbox/mod.ts";
import { type HostileServer, type Rule, startHostile } from "../support/hostile-server.ts";
import { cli, deliveredTo, send, setup } from "./cli-helpers.ts";
import { root } from "./helpers.ts";

const runtime = "Bun" in globalThis ? ["run"] : ["run", "-A"];
/** Starts mod.ts with `args` as a separate process (to be killed). */
function mailplan(args: string[]) {
  const child = spawn(process.execPath, [...runtime, join(root, "mod.ts"), ...args], { stdio: "ignore", env: { ...process.env, NO_COLOR: "1" } });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, exited };
}
const sawOn = (s: HostileServer, conn: number, verb: string) => () => s.connections[conn - 1]?.commands.some((c) => c.verb === verb) ?? false;

let good: HostileServer;
before(async () => (good = await startHostile({ starttls: false, maxLifetimeMs: 120_000 })), { timeout: 120_000 });
after(async () => await good?.close());

describe("send: DELIVERY_UNKNOWN is kept, flagged cut off", () => {
  test("the connection closes after the final dot: exit 75, kept in the outbox, the exact resend command is given", async () => {
    const cut = await startHostile({ starttls: false, maxLifetimeMs: 60_000, rules: [{ on: ".", reply: null, then: "close" }] });
    try {
      const { config, outbox } = setup(cut.port);
      const r = await send(config, "cut@rcpt.example");
      assert.equal(r.code, 75, r.out);
      const result = JSON.parse(r.out);
      assert.equal(result.error.code, "DELIVERY_UNKNOWN");
      assert.equal(result.queued.cutOff, true);
      const id = result.queued.id;
      const command = `mailplan outbox flush --config ${config} --resend-unknown ${id}`;
      assert.ok(result.error.hint.includes(command), result.error.hint);
      const [entry] = (await list(outbox)).entries;
      assert.equal(entry.id, id);
      assert.deepEqual(entry.inflight?.recipients, ["cut@rcpt.example"]);
      const human = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "cut2@rcpt.example", "--subject", "s", "--text", "t");
      assert.equal(human.code, 75);
      assert.match(human.err, /may have arrived/);
      assert.match(human.err, /mailplan outbox flush --config \S+ --resend-unknown \S+/);
      // A plain flush reports it and does not resend; the exact command from the hint does.
      const before = deliveredTo(good).length;
      const { writeFileSync, readFileSync } = await import("node:fs");
      writeFileSync(config, readFileSync(config, "utf8").replace(`port: ${cut.port}`, `port: ${good.port}`));
      const plain = await cli("outbox", "flush", "--config", config, "--json");
      assert.equal(plain.code, 75);
      assert.deepEqual(JSON.parse(plain.out).outcomes.map((o: { status: string }) => o.status), ["interrupted", "interrupted"]);
      assert.equal(deliveredTo(good).length, before);
      const again = await cli(...command.split(" ").slice(1), "--json");
      assert.equal(again.code, 0, again.out); // only that entry was flushed
      assert.deepEqual(deliveredTo(good).slice(before), ["cut@rcpt.example"]);
      assert.deepEqual((await list(outbox)).entries.map((e) => e.envelope.recipients[0]), ["cut2@rcpt.example"]);
    } finally {
      await cut.close();
    }
  });
});

/** The kill points of one transaction, in order; only the last is after the final dot. */
const POINTS = ["MAIL", "RCPT", "DATA", "."] as const;
const hangAt = (verb: string, conn: number): Rule => ({ on: verb, conn, reply: null, then: "hang" });

describe("kill -9 at each point of a transaction (waits on server events, not on time)", () => {
  test("send: killed before the dot → kept, not flagged, a flush sends it once; after the dot → flagged, never resent", { timeout: 120_000 }, async () => {
    const N = 8;
    const slow = await startHostile({ starttls: false, maxLifetimeMs: 120_000, rules: Array.from({ length: N }, (_, i) => hangAt(POINTS[i % 4], i + 1)) });
    try {
      const { config, outbox } = setup(slow.port);
      for (let i = 0; i < N; i++) {
        const p = mailplan(["send", "--config", config, "--from", "a@sender.example", "--to", `s${i}@rcpt.example`, "--subject", `send ${i}`, "--text", "x"]);
        await slow.waitFor(sawOn(slow, i + 1, POINTS[i % 4]), 60_000, `send ${i} reached ${POINTS[i % 4]}`);
        p.child.kill("SIGKILL");
        await p.exited;
      }
      const { entries, problems } = await list(outbox);
      assert.deepEqual(problems, []);
      const byRcpt = new Map(entries.map((e) => [e.envelope.recipients[0], e]));
      for (let i = 0; i < N; i++) {
        const e = byRcpt.get(`s${i}@rcpt.example`);
        assert.ok(e, `s${i}: kept in the outbox`);
        assert.equal(e.inflight !== null, POINTS[i % 4] === ".", `s${i} killed at ${POINTS[i % 4]}: flagged only after the dot`);
      }
      const f = await cli("outbox", "flush", "--config", config, "--json");
      assert.equal(f.code, 75, "the cut-off ones stay");
      const bodies = new Map<string, number>();
      for (const c of slow.connections) {
        if (!c.bodies.length) continue;
        const rcpt = c.commands.find((k) => k.verb === "RCPT")!.line.replace(/^RCPT TO:<|>.*$/g, "");
        bodies.set(rcpt, (bodies.get(rcpt) ?? 0) + 1);
      }
      for (let i = 0; i < N; i++) assert.equal(bodies.get(`s${i}@rcpt.example`), 1, `s${i}: exactly one body`);
      assert.deepEqual((await list(outbox)).entries.map((e) => e.envelope.recipients[0]).sort(), ["s3@rcpt.example", "s7@rcpt.example"]);
    } finally {
      await slow.close();
    }
  });

  test("flush: killed at each point, round after round: nothing lost, nothing twice, flagged only after the dot", { timeout: 120_000 }, async () => {
    const ROUNDS = 8;
    const slow = await startHostile({ starttls: false, maxLifetimeMs: 120_000, rules: Array.from({ length: ROUNDS }, (_, i) => hangAt(POINTS[i % 4], i + 1)) });
    try {
      const { config, outbox } = setup(slow.port);
      const N = 6;
      for (let i = 0; i < N; i++) assert.equal((await send(config, `m${i}@rcpt.example`, "--queue")).code, 75);
      for (let r = 0; r < ROUNDS; r++) {
        const p = mailplan(["outbox", "flush", "--config", config]);
        await slow.waitFor(sawOn(slow, r + 1, POINTS[r % 4]), 60_000, `flush ${r} reached ${POINTS[r % 4]}`);
        p.child.kill("SIGKILL");
        await p.exited;
        const flagged = (await list(outbox)).entries.filter((e) => e.inflight !== null).length;
        assert.equal(flagged, Math.floor((r + 1) / 4), `after round ${r}: one flagged per kill after a dot`);
      }
      await cli("outbox", "flush", "--config", config); // a clean flush: the rest goes, the flagged stay
      const bodies = new Map<string, number>();
      for (const c of slow.connections) {
        if (!c.bodies.length) continue;
        const rcpt = c.commands.find((k) => k.verb === "RCPT")!.line.replace(/^RCPT TO:<|>.*$/g, "");
        bodies.set(rcpt, (bodies.get(rcpt) ?? 0) + 1);
      }
      const left = (await list(outbox)).entries;
      for (let i = 0; i < N; i++) {
        const rcpt = `m${i}@rcpt.example`;
        assert.ok((bodies.get(rcpt) ?? 0) <= 1, `${rcpt} sent twice`);
        const e = left.find((x) => x.envelope.recipients[0] === rcpt);
        if (e) assert.notEqual(e.inflight, null, `${rcpt} still queued but not flagged`);
        else assert.equal(bodies.get(rcpt), 1, `${rcpt} left the outbox without being delivered`);
      }
      assert.equal(left.length, ROUNDS / 4);
    } finally {
      await slow.close();
    }
  });
});

describe("send holds the entry's lock from store to outcome", () => {
  test("a flush running in a loop beside sends never takes a send's entry: every message once, none lost", { timeout: 120_000 }, async () => {
    const slow = await startHostile({ starttls: false, maxLifetimeMs: 120_000, rules: [{ on: ".", delayMs: 20, reply: "250 2.0.0 queued" }] });
    try {
      const { config, outbox } = setup(slow.port);
      let stop = false;
      let flushes = 0;
      const loop = (async () => {
        while (!stop) {
          await cli("outbox", "flush", "--config", config);
          flushes++;
        }
      })();
      const N = 12;
      const codes: number[] = [];
      for (let i = 0; i < N; i += 2) {
        const pair = await Promise.all([send(config, `c${i}@rcpt.example`), send(config, `c${i + 1}@rcpt.example`)]);
        codes.push(...pair.map((r) => r.code));
      }
      stop = true;
      await loop;
      assert.deepEqual(codes, Array(N).fill(0));
      const got = deliveredTo(slow).sort();
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => `c${i}@rcpt.example`).sort(), "each message exactly once");
      assert.deepEqual((await list(outbox)).entries, []);
      assert.ok(flushes > 0);
    } finally {
      await slow.close();
    }
  });
});
