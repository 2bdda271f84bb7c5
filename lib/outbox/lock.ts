/**
 * Per-entry locks that survive kill -9. A lock is the file `<id>.lock`, created atomically with
 * its content (hard link of a finished candidate file, so it is never seen empty), holding the
 * owner's pid, process start time, host and a random token. A lock whose owner is dead (no such
 * pid, a zombie, or a pid reused by a process started at another time) is stale and is taken
 * over. Stale locks are removed under a short-lived `<id>.lock.break` mutex, after checking that
 * the lock file still holds exactly what was judged stale, so two takers can never both win
 * (short of a taker dying inside that few-millisecond section while two others race to break it).
 * @module
 */
import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { step, tempName } from "./atomic.ts";

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  /** Process start time (Linux: /proc starttime in clock ticks), null where unknown. */
  start: string | null;
  host: string;
  token: string;
  at: string;
}

/** A held lock. */
export interface OutboxLock {
  id: string;
  token: string;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): Promise<void>;
}

/** A lock file that cannot be parsed is stale only after this long (a power loss can leave one empty). */
const UNREADABLE_STALE_MS = 10_000;
/** An unreadable break mutex older than this is abandoned (it is held for a few milliseconds). */
const BREAK_STALE_MS = 10_000;
/** A lock from another host cannot be checked; it is taken over after this long. */
const FOREIGN_STALE_MS = 60 * 60_000;

/** Start time and state of a process from /proc (Linux), or null where unavailable. */
function procStat(pid: number | "self"): { start: string; state: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { state: f[0], start: f[19] };
  } catch {
    return null;
  }
}

let selfStart: string | null | undefined;
function myStart(): string | null {
  if (selfStart === undefined) selfStart = procStat("self")?.start ?? null;
  return selfStart;
}

/** True when the process that wrote `info` is certainly gone. */
export function isDead(info: LockInfo, ageMs: number): boolean {
  if (info.host !== hostname()) return ageMs > FOREIGN_STALE_MS;
  if (info.pid === process.pid) return info.start !== myStart();
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as { code?: string }).code === "ESRCH") return true;
    // EPERM: it exists, owned by someone else.
  }
  const p = procStat(info.pid);
  if (p && (p.state === "Z" || p.state === "X")) return true;
  if (p && info.start !== null && p.start !== info.start) return true; // pid reused
  return false;
}

function parseInfo(raw: string): LockInfo | null {
  try {
    const v = JSON.parse(raw);
    if (typeof v?.pid === "number" && typeof v.token === "string" && typeof v.host === "string") return v as LockInfo;
  } catch { /* unreadable */ }
  return null;
}

async function readLock(path: string): Promise<{ raw: string; ageMs: number } | null> {
  try {
    const [raw, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    return { raw, ageMs: Date.now() - st.mtimeMs };
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * Creates `path` holding `raw`, only if it does not exist: a hard link of the finished candidate
 * file (never seen empty), or an exclusive create where the filesystem has no hard links.
 * False when `path` exists.
 */
async function createExclusive(cand: string, path: string, raw: string): Promise<boolean> {
  for (let tries = 0;; tries++) {
    try {
      await link(cand, path);
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EEXIST") return false;
      if (code === "ENOENT" && tries < 3) { // list's cleanup removed our candidate while it held the lock
        await writeFile(cand, raw, { mode: 0o600 });
        continue;
      }
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV" && code !== "ENOSYS") throw e;
      try {
        await writeFile(path, raw, { mode: 0o600, flag: "wx" }); // readers treat a fresh unreadable file as held
        return true;
      } catch (e2) {
        if ((e2 as { code?: string }).code === "EEXIST") return false;
        throw e2;
      }
    }
  }
}

/** Who holds `id`'s lock (null when free or stale). */
export async function lockHolder(dir: string, id: string): Promise<LockInfo | null> {
  const cur = await readLock(join(dir, `${id}.lock`));
  if (!cur) return null;
  const info = parseInfo(cur.raw);
  if (!info) return cur.ageMs > UNREADABLE_STALE_MS ? null : { pid: 0, start: null, host: "?", token: "", at: "" };
  return isDead(info, cur.ageMs) ? null : info;
}

/**
 * Removes a stale lock whose content is still exactly `seen`, under the break mutex
 * `<id>.lock.break` (created like a lock, from our candidate file `cand`). A break mutex whose
 * holder is dead is itself broken: renamed aside, checked to be the one judged dead, and put back
 * if it was not.
 */
async function breakStale(dir: string, id: string, seen: string, cand: string, raw: string, token: string): Promise<void> {
  const lockPath = join(dir, `${id}.lock`);
  const mutex = `${lockPath}.break`;
  let held = false;
  for (let tries = 0; tries < 3 && !held; tries++) {
    if (await createExclusive(cand, mutex, raw)) {
      held = true;
    } else {
      const cur = await readLock(mutex);
      if (!cur) continue;
      const info = parseInfo(cur.raw);
      if (!(info ? isDead(info, cur.ageMs) : cur.ageMs > BREAK_STALE_MS)) return; // another taker is at work
      const aside = join(dir, tempName(id, "breakstale"));
      try {
        await rename(mutex, aside);
      } catch {
        continue;
      }
      const got = await readFile(aside, "utf8").catch(() => "");
      if (got !== cur.raw) await link(aside, mutex).catch(() => {}); // a live one after all: put it back
      await unlink(aside).catch(() => {});
      if (got !== cur.raw) return;
    }
  }
  if (!held) return;
  try {
    await step("lock-break-held");
    const cur = await readLock(lockPath);
    // Only this mutex's holder may remove a lock file, and a new lock cannot be created while
    // the stale one exists, so the content cannot change between this check and the unlink.
    if (cur && cur.raw === seen) await unlink(lockPath).catch(() => {});
  } finally {
    const cur = await readLock(mutex).catch(() => null);
    if (cur && parseInfo(cur.raw)?.token === token) await unlink(mutex).catch(() => {});
  }
}

/**
 * Takes `id`'s lock without waiting: the lock, or null when a live process holds it.
 * @example const lock = await tryLock(dir, id); if (lock) try { … } finally { await lock.release(); }
 */
export async function tryLock(dir: string, id: string): Promise<OutboxLock | null> {
  const lockPath = join(dir, `${id}.lock`);
  const info: LockInfo = {
    pid: process.pid,
    start: myStart(),
    host: hostname(),
    token: randomBytes(16).toString("hex"),
    at: new Date().toISOString(),
  };
  const raw = JSON.stringify(info);
  const cand = join(dir, tempName(id, "lockcand"));
  try {
    await step("lock-open");
    await writeFile(cand, raw, { mode: 0o600 });
    for (let tries = 0; tries < 4; tries++) {
      if (await createExclusive(cand, lockPath, raw)) return makeLock(dir, id, info.token);
      const cur = await readLock(lockPath);
      if (!cur) continue; // released meanwhile
      const held = parseInfo(cur.raw);
      const stale = held ? isDead(held, cur.ageMs) : cur.ageMs > UNREADABLE_STALE_MS;
      if (!stale) return null;
      await breakStale(dir, id, cur.raw, cand, raw, info.token);
    }
    return null;
  } finally {
    await unlink(cand).catch(() => {});
  }
}

function makeLock(dir: string, id: string, token: string): OutboxLock {
  let released = false;
  return {
    id,
    token,
    async release() {
      if (released) return;
      released = true;
      const path = join(dir, `${id}.lock`);
      const cur = await readLock(path);
      if (cur && parseInfo(cur.raw)?.token === token) await unlink(path).catch(() => {});
    },
  };
}
