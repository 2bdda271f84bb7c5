/**
 * Dead letters: entries that failed for good (5xx for every recipient, message refused, no route,
 * message file changed, older than `outbox_max_age`) move to the `failed/` folder inside the
 * outbox, where nothing is ever retried; `outbox retry ID` moves one back.
 * A move is: hard link (or copy) the .eml into the target folder, write the target .json (the
 * commit point), then remove the source entry (.json first). A crash in between leaves the entry
 * in both folders; `settleMoves` (run by cleanup) keeps the newer copy. Both folders use the
 * queue folder's `<id>.lock` for the entry's lock.
 * @module
 */
import { copyFile, link, mkdir, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { MailplanError } from "../codes.ts";
import { fsyncDir } from "./atomic.ts";
import { isOutboxId } from "./id.ts";
import { type OutboxLock, tryLock } from "./lock.ts";
import { checkOutboxDir, readEntryText, UnsafeEntryError } from "./safe-fs.ts";
import { busyError, checkId, parseEntry, read, removeEntry, writeEntry } from "./store.ts";
import type { OutboxEntry, OutboxError, OutboxProblem } from "./types.ts";

const codeOf = (e: unknown) => (e as { code?: string }).code;

/** The dead-letter folder of an outbox folder. */
export function failedDir(dir: string): string {
  return join(dir, "failed");
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await unlink(to).catch(() => {}); // a leftover of an interrupted move: ours, replaced
  try {
    await link(from, to);
  } catch (e) {
    if (codeOf(e) !== "EPERM" && codeOf(e) !== "ENOTSUP" && codeOf(e) !== "EXDEV" && codeOf(e) !== "ENOSYS") throw e;
    await copyFile(from, to);
  }
}

async function move(fromDir: string, toDir: string, entry: OutboxEntry): Promise<void> {
  await mkdir(toDir, { recursive: true, mode: 0o700 });
  await checkOutboxDir(toDir);
  await linkOrCopy(join(fromDir, `${entry.id}.eml`), join(toDir, `${entry.id}.eml`));
  await fsyncDir(toDir);
  await writeEntry(toDir, entry, "move");
  await removeEntry(fromDir, entry.id);
}

/**
 * Moves an entry (held under `lock`) to the failed folder with the reason; it is never retried
 * from there. Returns the dead letter's state.
 */
export async function moveToFailed(dir: string, entry: OutboxEntry, failure: OutboxError, lock: OutboxLock, now = new Date()): Promise<OutboxEntry> {
  if (lock.id !== entry.id) throw new Error(`lock for ${lock.id} used for ${entry.id}`);
  const dead: OutboxEntry = { ...entry, failure: { code: failure.code, message: failure.message, at: now.toISOString() } };
  await move(dir, failedDir(dir), dead);
  return dead;
}

/** Dead letters, oldest first, and the ones that could not be read. Never writes. */
export async function listFailed(dir: string): Promise<{ entries: OutboxEntry[]; problems: OutboxProblem[] }> {
  await checkOutboxDir(dir);
  const fdir = failedDir(dir);
  await checkOutboxDir(fdir);
  let names: string[];
  try {
    names = await readdir(fdir);
  } catch (e) {
    if (codeOf(e) === "ENOENT") return { entries: [], problems: [] };
    throw e;
  }
  const entries: OutboxEntry[] = [];
  const problems: OutboxProblem[] = [];
  for (const n of names.sort()) {
    const m = /^(.+)\.json$/.exec(n);
    if (!m || !isOutboxId(m[1])) continue;
    try {
      entries.push(parseEntry(await readEntryText(join(fdir, n)), m[1]));
    } catch (e) {
      if (codeOf(e) === "ENOENT") continue;
      problems.push({ id: m[1], kind: e instanceof UnsafeEntryError ? "unsafe" : "corrupt", detail: (e as Error).message, removed: false });
    }
  }
  return { entries, problems };
}

/** Reads a dead letter's state. */
export function readFailed(dir: string, id: string): Promise<OutboxEntry> {
  return read(failedDir(dir), id);
}

/**
 * `outbox retry ID`: moves a dead letter back into the queue, due now, its age counted from now.
 * @example await retryFailed(dir, "20260102T030405678Z-k3j9x2m4q7a5")
 */
export async function retryFailed(dir: string, id: string, now = new Date()): Promise<OutboxEntry> {
  checkId(dir, id);
  await checkOutboxDir(dir);
  const lock = await tryLock(dir, id);
  if (!lock) throw await busyError(dir, id);
  try {
    let dead: OutboxEntry;
    try {
      dead = await readFailed(dir, id);
    } catch (e) {
      if (e instanceof MailplanError && e.code === "USAGE") {
        throw new MailplanError("USAGE", `There is no failed outbox entry ${JSON.stringify(id)}.`, "`mailplan outbox list --failed` shows them");
      }
      throw e;
    }
    const back: OutboxEntry = { ...dead, failure: null, retried: now.toISOString(), nextAttempt: now.toISOString() };
    await move(failedDir(dir), dir, back);
    return back;
  } finally {
    await lock.release();
  }
}

/** Removes a dead letter (`outbox drop ID` on an entry of the failed folder). */
export async function dropFailed(dir: string, id: string): Promise<OutboxEntry | null> {
  checkId(dir, id);
  const lock = await tryLock(dir, id);
  if (!lock) throw await busyError(dir, id);
  try {
    const entry = await readFailed(dir, id).catch(() => null);
    await removeEntry(failedDir(dir), id);
    return entry;
  } finally {
    await lock.release();
  }
}

/**
 * Finishes moves a crash interrupted (the entry is in both folders): the copy written last wins
 * (a dead letter's `failure.at` against a retried entry's `retried`), the other is removed.
 */
export async function settleMoves(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(failedDir(dir));
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^(.+)\.json$/.exec(n);
    if (!m || !isOutboxId(m[1])) continue;
    const id = m[1];
    const lock = await tryLock(dir, id).catch(() => null);
    if (!lock) continue;
    try {
      const queued = await read(dir, id).catch(() => null);
      if (!queued) continue;
      const dead = await readFailed(dir, id).catch(() => null);
      if (!dead) continue;
      const deadAt = Date.parse(dead.failure?.at ?? "");
      const backAt = Date.parse(queued.retried ?? "");
      if (backAt >= deadAt) await removeEntry(failedDir(dir), id);
      else await removeEntry(dir, id);
    } finally {
      await lock.release();
    }
  }
}
