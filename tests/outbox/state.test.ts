/** The outbox's state changes as pure functions, tested without the filesystem. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ageMs, applyOutcome, isDue, isExpired, withInflight } from "../../lib/outbox/state.ts";
import type { OutboxEntry } from "../../lib/outbox/types.ts";

const t0 = new Date(Date.UTC(2026, 0, 1));
function entry(over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    version: 1, id: "20260101T000000000Z-aaaaaaaaaaaa", created: t0.toISOString(), envelope: { from: "s@x", recipients: ["a@x", "b@x", "c@x"] },
    route: null, config: null, pending: ["a@x", "b@x", "c@x"], done: [], rejected: [], attempts: [], nextAttempt: t0.toISOString(),
    inflight: null, reason: { code: "TEMPORARY_FAILURE", message: "451" }, messageId: null, size: 1, bytes: 1, sha256: "0".repeat(64),
    has8bit: false, needsSmtpUtf8: false, ...over,
  };
}

describe("applyOutcome", () => {
  it("accepted → done, 5xx → rejected, both for good; the attempt is recorded; the input is unchanged", () => {
    const e = entry();
    const frozen = JSON.stringify(e);
    const a = applyOutcome(e, { relay: "r", accepted: ["a@x"], rejectedPermanent: [{ address: "c@x", code: 550, text: "no" }], temporaryError: { code: "TEMPORARY_FAILURE", message: "451" } }, t0);
    assert.equal(JSON.stringify(e), frozen);
    assert.deepEqual(a.entry.pending, ["b@x"]);
    assert.deepEqual(a.entry.done.map((d) => d.address), ["a@x"]);
    assert.deepEqual(a.entry.rejected.map((d) => [d.address, d.code]), [["c@x", 550]]);
    assert.equal(a.entry.attempts.length, 1);
    assert.equal(a.finished, false);
    assert.equal(Date.parse(a.entry.nextAttempt) - t0.getTime(), 5 * 60_000);
    // A confused outcome naming a settled recipient changes nothing for it.
    const b = applyOutcome(a.entry, { accepted: ["a@x", "c@x", "b@x"], rejectedPermanent: [], temporaryError: null }, t0);
    assert.deepEqual(b.entry.done.map((d) => d.address), ["a@x", "b@x"]);
    assert.equal(b.finished, true);
    const all = [...b.entry.pending, ...b.entry.done.map((d) => d.address), ...b.entry.rejected.map((r) => r.address)].sort();
    assert.deepEqual(all, ["a@x", "b@x", "c@x"]);
  });
  it("clears in flight, except when the outcome is unknown (DELIVERY_UNKNOWN): then the entry is not finished", () => {
    const flying = withInflight(entry(), { relay: "r", recipients: ["a@x"] }, t0, 1);
    assert.equal(applyOutcome(flying, { accepted: [], rejectedPermanent: [], temporaryError: { code: "TIMEOUT", message: "t" } }, t0).entry.inflight, null);
    const u = applyOutcome(flying, { accepted: ["b@x", "c@x"], rejectedPermanent: [], temporaryError: { code: "DELIVERY_UNKNOWN", message: "?" }, unknown: true }, t0);
    assert.deepEqual(u.entry.inflight?.recipients, ["a@x"]);
    assert.equal(u.finished, false);
  });
});

describe("withInflight", () => {
  it("keeps the recipients of an earlier unanswered dot (union), so a retry never hides a possible delivery", () => {
    const one = withInflight(entry(), { relay: "r", recipients: ["a@x", "b@x"] }, t0, 1);
    const two = withInflight(one, { relay: "r2", recipients: ["b@x", "c@x"] }, t0, 1);
    assert.deepEqual(two.inflight?.recipients, ["a@x", "b@x", "c@x"]);
    assert.equal(two.inflight?.relay, "r2");
  });
});

describe("due, expiry, outbox_max_age", () => {
  it("isDue compares nextAttempt; isExpired counts from creation, or from the last retry", () => {
    assert.equal(isDue(entry({ nextAttempt: new Date(t0.getTime() + 1).toISOString() }), t0), false);
    assert.equal(isDue(entry(), t0), true);
    const fiveDays = ageMs("5d")!;
    assert.equal(fiveDays, 5 * 86_400_000);
    assert.equal(isExpired(entry(), fiveDays, new Date(t0.getTime() + fiveDays)), false);
    assert.equal(isExpired(entry(), fiveDays, new Date(t0.getTime() + fiveDays + 1)), true);
    assert.equal(isExpired(entry({ retried: new Date(t0.getTime() + fiveDays).toISOString() }), fiveDays, new Date(t0.getTime() + fiveDays + 1)), false);
  });
  it("ageMs reads ms, s, m, h, d and refuses anything else", () => {
    assert.equal(ageMs("1d12h"), 36 * 3_600_000);
    assert.equal(ageMs("90s"), 90_000);
    for (const bad of ["", "5", "5 d", "-1d", "1w"]) assert.equal(ageMs(bad), undefined, bad);
  });
});
