/** Outbox entry ids: `20260102T030405678Z-k3j9x2m4q7a5` — UTC time (sortable), then 60 random bits. @module */
import { randomBytes } from "node:crypto";

const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const ID = /^\d{8}T\d{9}Z-[a-z2-7]{12}$/;

/** A new id: sorts by creation time, unguessable, safe as a file name on every filesystem. */
export function newOutboxId(now: Date = new Date()): string {
  const t = now.toISOString().replace(/[-:.]/g, ""); // 20260102T030405678Z
  const r = randomBytes(12);
  let s = "";
  for (let i = 0; i < 12; i++) s += B32[r[i] & 31];
  return `${t}-${s}`;
}

/** True when `id` has the shape of an outbox id (so it can never name a path outside the outbox). */
export function isOutboxId(id: string): boolean {
  return ID.test(id);
}
