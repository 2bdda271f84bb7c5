/**
 * The outbox: messages that could not be delivered yet. Each entry is two files in the outbox
 * folder: `<id>.eml` (the exact message bytes) and `<id>.json` (envelope and delivery state).
 * Every write is atomic (temporary file, fsync, rename, fsync of the folder), the .eml always
 * before the .json, and the .json is the entry's commit point: an .eml without a .json is an
 * unfinished enqueue, never sent, and removed by `cleanup`. Removal deletes the .json first.
 * Every change to an entry happens under its lock (see lock.ts). Reading never writes: `list`
 * works on a read-only folder; garbage collection is `cleanup`, run by `flush`.
 * Nothing in the folder is trusted blindly (safe-fs.ts): a folder or file another user could
 * have written is refused, symlinks are never followed, the message's length and SHA-256 are
 * checked before its first byte is sent.
 * @module
 */
import { readdir, stat, unlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import process from "node:process";
import { MailplanError } from "../codes.ts";
import { fsyncDir, step, tempName, writeAtomic } from "./atomic.ts";
import { ensureOutboxDir } from "./dir.ts";
import { isOutboxId, newOutboxId } from "./id.ts";
import { lockHolder, type OutboxLock, tryLock } from "./lock.ts";
import { checkOutboxDir, openEntryFile, readEntryText, UnsafeEntryError } from "./safe-fs.ts";
import { applyOutcome, retryDelayMs, withInflight } from "./state.ts";
import type { AttemptOutcome, EnqueueInput, OutboxEntry, OutboxMessage, OutboxProblem } from "./types.ts";

const codeOf = (e: unknown) => (e as { code?: string }).code;
const exists = (path: string) => stat(path).then(() => true, () => false);

/** The id check every function taking an id makes first (an id can never name a path outside the outbox). */
export function checkId(dir: string, id: string): void {
  if (!isOutboxId(id)) {
    throw new MailplanError("USAGE", `${JSON.stringify(id)} is not an outbox id.`, `ids look like 20260102T030405678Z-k3j9x2m4q7a5; see \`mailplan outbox list\` (${dir})`);
  }
}

async function unknownId(dir: string, id: string): Promise<MailplanError> {
  const ids = (await list(dir).catch(() => ({ entries: [] as OutboxEntry[] }))).entries.map((e) => e.id);
  const hint = ids.length === 0
    ? `the outbox (${dir}) is empty`
    : `the outbox holds ${ids.length} ${ids.length === 1 ? "entry" : "entries"}: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""} (see \`mailplan outbox list\`)`;
  return new MailplanError("USAGE", `There is no outbox entry ${JSON.stringify(id)}.`, hint);
}

const isStr = (v: unknown): v is string => typeof v === "string";
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Parses and checks a state file; throws an Error saying what is wrong (field by field, types included). */
export function parseEntry(text: string, id: string): OutboxEntry {
  const bad = (what: string) => new Error(`${id}.json: ${what}`);
  let e: OutboxEntry;
  try {
    e = JSON.parse(text) as OutboxEntry;
  } catch {
    throw bad("not valid JSON (truncated or hand-edited)");
  }
  if (typeof e !== "object" || e === null) throw bad("not a JSON object");
  if (e.version !== 1) throw bad("unknown version");
  if (e.id !== id) throw bad("id does not match the file name");
  if (!isStr(e.created) || Number.isNaN(Date.parse(e.created))) throw bad("bad created time");
  if (!isStr(e.envelope?.from) || !isStrArray(e.envelope.recipients)) throw bad("bad envelope");
  if (!isStrArray(e.pending)) throw bad("bad pending recipients");
  if (!Array.isArray(e.done) || !e.done.every((d) => isStr(d?.address))) throw bad("bad done recipients");
  if (!Array.isArray(e.rejected) || !e.rejected.every((r) => isStr(r?.address))) throw bad("bad rejected recipients");
  if (!Array.isArray(e.attempts)) throw bad("bad attempts");
  if (!isCount(e.bytes) || !isStr(e.sha256) || !/^[0-9a-f]{64}$/.test(e.sha256) || !isCount(e.size)) throw bad("bad message facts (bytes, size or sha256)");
  if (!isStr(e.nextAttempt)) throw bad("bad nextAttempt");
  if (e.inflight !== null && e.inflight !== undefined && !isStrArray(e.inflight.recipients)) throw bad("bad inflight");
  e.inflight ??= null;
  e.config ??= null;
  e.route ??= null;
  return e;
}

async function writeState(dir: string, entry: OutboxEntry, prefix: string): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(entry, null, 2) + "\n");
  await writeAtomic(dir, `${entry.id}.json`, tempName(entry.id, "json"), [bytes], prefix);
}

/** Removes an entry: .json first (the entry ceases to exist atomically), then the .eml. */
export async function removeEntry(dir: string, id: string): Promise<void> {
  await step("remove-open");
  await unlink(join(dir, `${id}.json`)).catch((e) => {
    if (codeOf(e) !== "ENOENT") throw e;
  });
  await fsyncDir(dir);
  await step("remove-json");
  await unlink(join(dir, `${id}.eml`)).catch((e) => {
    if (codeOf(e) !== "ENOENT") throw e;
  });
  await fsyncDir(dir);
}

/** The Subject header's value (unfolded, first 200 characters), read from the first chunk of headers. */
function subjectOf(head: Uint8Array): string | null {
  const text = new TextDecoder("latin1").decode(head);
  const end = text.search(/\r?\n\r?\n/);
  const headers = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const m = /^subject:[ \t]*(.*)$/im.exec(headers);
  return m ? m[1].slice(0, 200) : null;
}

/**
 * Stores a message and its envelope and returns the new entry's id with its lock still held,
 * once both files are durable: the caller keeps the entry to itself until it releases the lock
 * (`send` holds it from store to outcome). On failure nothing is left behind.
 * @example const { id, lock } = await store(dir, { envelope, message, reason }); try { … } finally { await lock.release(); }
 */
export async function store(dir: string, input: EnqueueInput): Promise<{ id: string; lock: OutboxLock }> {
  await checkOutboxDir(dir);
  await ensureOutboxDir(dir);
  const now = input.now ?? new Date();
  const id = newOutboxId(now);
  const lock = await tryLock(dir, id);
  if (!lock) throw new Error(`outbox id collision: ${id}`);
  try {
    const hash = createHash("sha256");
    let head: Uint8Array | null = null;
    let bytes: number;
    try {
      bytes = await writeAtomic(dir, `${id}.eml`, tempName(id, "eml"), input.message.open(), "eml", (c) => {
        hash.update(c);
        head ??= c.subarray(0, 16384);
      });
    } catch (e) {
      await unlink(join(dir, `${id}.eml`)).catch(() => {});
      throw e;
    }
    const recipients = [...new Set(input.envelope.recipients)];
    const at = now.toISOString();
    const done = (input.done ?? []).filter((d) => recipients.includes(d.address))
      .map((d) => ({ address: d.address, at, relay: d.relay ?? null }));
    const rejected = (input.rejected ?? []).filter((r) => recipients.includes(r.address))
      .map((r) => ({ address: r.address, code: r.code, text: r.text, at }));
    const settled = new Set([...done, ...rejected].map((r) => r.address));
    const attempts = input.attempts ?? [];
    const entry: OutboxEntry = {
      version: 1,
      id,
      created: at,
      envelope: { from: input.envelope.from, recipients },
      route: input.route ?? null,
      config: input.config ?? null,
      subject: head ? subjectOf(head) : null,
      pending: recipients.filter((r) => !settled.has(r)),
      done,
      rejected,
      attempts,
      nextAttempt: (input.nextAttempt ?? new Date(now.getTime() + (attempts.length ? retryDelayMs(attempts.length) : 0))).toISOString(),
      inflight: null,
      reason: { code: input.reason.code, message: input.reason.message },
      messageId: input.message.messageId,
      size: input.message.size,
      bytes,
      sha256: hash.digest("hex"),
      has8bit: input.message.has8bit,
      needsSmtpUtf8: input.message.needsSmtpUtf8,
    };
    try {
      await writeState(dir, entry, "json");
    } catch (e) {
      await removeEntry(dir, id).catch(() => {});
      throw e;
    }
    return { id, lock };
  } catch (e) {
    await lock.release().catch(() => {});
    throw e;
  }
}

/**
 * Stores a message and its envelope; returns the new entry's id once both files are durable.
 * @example const id = await enqueue(dir, { envelope, message, reason: { code: "TEMPORARY_FAILURE", message: "451 …" } });
 */
export async function enqueue(dir: string, input: EnqueueInput): Promise<string> {
  const { id, lock } = await store(dir, input);
  await lock.release();
  return id;
}

/** Reads one entry's state (safely: no symlink, ours only). Unknown id: MailplanError USAGE whose hint lists the ids. */
export async function read(dir: string, id: string): Promise<OutboxEntry> {
  checkId(dir, id);
  let text: string;
  try {
    text = await readEntryText(join(dir, `${id}.json`));
  } catch (e) {
    if (codeOf(e) === "ENOENT" || codeOf(e) === "ENOTDIR") throw await unknownId(dir, id);
    throw e;
  }
  return parseEntry(text, id);
}

/** Checks that `<id>.eml` is a safe regular file of the recorded length. */
async function checkMessageFile(dir: string, entry: OutboxEntry): Promise<void> {
  const fh = await openEntryFile(join(dir, `${entry.id}.eml`)).catch((e) => {
    if (codeOf(e) === "ENOENT") throw new Error(`${entry.id}.eml is missing`);
    throw e;
  });
  try {
    const st = await fh.stat();
    if (st.size !== entry.bytes) throw new Error(`${entry.id}.eml has ${st.size} bytes, the state says ${entry.bytes}`);
  } finally {
    await fh.close();
  }
}

/** The ids in a folder listing, with which of their files exist. */
function scan(names: string[]) {
  const byId = new Map<string, { json: boolean; eml: boolean; lock: boolean; brk: boolean; temps: string[] }>();
  const slot = (id: string) => {
    let s = byId.get(id);
    if (!s) byId.set(id, s = { json: false, eml: false, lock: false, brk: false, temps: [] });
    return s;
  };
  for (const n of names) {
    const m = /^(.+)\.(json|eml|lock)$/.exec(n);
    if (m && isOutboxId(m[1])) slot(m[1])[m[2] as "json" | "eml" | "lock"] = true;
    const b = /^(.+)\.lock\.break$/.exec(n);
    if (b && isOutboxId(b[1])) slot(b[1]).brk = true;
    const t = /^\.(.+?)\.[a-z]+\.[0-9a-f]+\.tmp$/.exec(n);
    if (t && isOutboxId(t[1])) slot(t[1]).temps.push(n);
  }
  return byId;
}

async function names(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (codeOf(e) === "ENOENT") return null;
    throw e;
  }
}

/**
 * Every entry, oldest first, and the entries that could not be used (corrupt, unsafe, or an
 * interrupted enqueue). Never writes: works on a read-only folder.
 * @example const { entries, problems } = await list(dir);
 */
export async function list(dir: string): Promise<{ entries: OutboxEntry[]; problems: OutboxProblem[] }> {
  await checkOutboxDir(dir);
  const all = await names(dir);
  if (!all) return { entries: [], problems: [] };
  const byId = scan(all);
  const entries: OutboxEntry[] = [];
  const problems: OutboxProblem[] = [];
  for (const id of [...byId.keys()].sort()) {
    const s = byId.get(id)!;
    if (!s.json) {
      if (s.eml && !(await lockHolder(dir, id)) && !(await exists(join(dir, `${id}.json`)))) {
        problems.push({ id, kind: "incomplete", detail: `${id}.eml has no ${id}.json (an interrupted enqueue or removal)`, removed: false });
      }
      continue;
    }
    const jsonPath = join(dir, `${id}.json`);
    try {
      const text = await readEntryText(jsonPath).catch((e) => {
        if (codeOf(e) === "ENOENT") return null; // delivered or dropped meanwhile
        throw e;
      });
      if (text === null) continue;
      const entry = parseEntry(text, id);
      try {
        await checkMessageFile(dir, entry);
      } catch (e) {
        if (!(await exists(jsonPath))) continue; // removal in progress (.json goes first)
        throw e;
      }
      entries.push(entry);
    } catch (e) {
      problems.push({ id, kind: e instanceof UnsafeEntryError ? "unsafe" : "corrupt", detail: (e as Error).message, removed: false });
    }
  }
  return { entries, problems };
}

/**
 * Garbage collection (needs a writable folder; `flush` runs it first): removes leftover temporary
 * files and interrupted enqueues whose writer is gone, each under the entry's lock. Returns the
 * interrupted enqueues it removed.
 */
export async function cleanup(dir: string): Promise<OutboxProblem[]> {
  await checkOutboxDir(dir);
  const all = await names(dir);
  if (!all) return [];
  const removed: OutboxProblem[] = [];
  for (const [id, s] of scan(all)) {
    if (s.temps.length === 0 && !s.brk && !(s.eml && !s.json)) continue;
    // Only with the entry's lock: .eml/.json temporaries are only written under it, and a
    // contender's lock candidate or break mutex is useless while we hold the lock.
    const lock = await tryLock(dir, id).catch(() => null);
    if (!lock) continue;
    try {
      for (const t of s.temps) await unlink(join(dir, t)).catch(() => {});
      if (s.brk) await unlink(join(dir, `${id}.lock.break`)).catch(() => {});
      if (s.eml && !(await exists(join(dir, `${id}.json`)))) {
        await unlink(join(dir, `${id}.eml`)).catch(() => {});
        await fsyncDir(dir);
        removed.push({ id, kind: "incomplete", detail: `${id}.eml had no ${id}.json (an interrupted enqueue or removal); removed`, removed: true });
      }
    } finally {
      await lock.release();
    }
  }
  return removed;
}

/** An entry being sent right now cannot be changed. */
export async function busyError(dir: string, id: string): Promise<MailplanError> {
  const who = await lockHolder(dir, id);
  return new MailplanError("TEMPORARY_FAILURE", `Outbox entry ${id} is being sent right now${who?.pid ? ` (process ${who.pid})` : ""}.`, "try again when that send or flush has finished");
}

/**
 * Removes an entry (both files). Unknown id: USAGE with the ids as hint; an entry being sent
 * right now: TEMPORARY_FAILURE. Returns the state it had (null for an unreadable entry).
 */
export async function drop(dir: string, id: string): Promise<OutboxEntry | null> {
  checkId(dir, id);
  await checkOutboxDir(dir);
  const [json, eml] = await Promise.all([exists(join(dir, `${id}.json`)), exists(join(dir, `${id}.eml`))]);
  if (!json && !eml) throw await unknownId(dir, id);
  const lock = await tryLock(dir, id);
  if (!lock) throw await busyError(dir, id);
  try {
    const entry = await read(dir, id).catch(() => null);
    await removeEntry(dir, id);
    return entry;
  } finally {
    await lock.release();
  }
}

async function locked<T>(dir: string, id: string, lock: OutboxLock | undefined, fn: () => Promise<T>): Promise<T> {
  checkId(dir, id);
  if (lock) {
    if (lock.id !== id) throw new Error(`lock for ${lock.id} used for ${id}`);
    return await fn();
  }
  const own = await tryLock(dir, id);
  if (!own) throw new MailplanError("TEMPORARY_FAILURE", `Outbox entry ${id} is locked by another process.`, "try again when that flush has finished");
  try {
    return await fn();
  } finally {
    await own.release();
  }
}

/**
 * Records that an attempt's final dot is about to go out (call right before writing it): sets
 * `inflight`. Pass the lock from withLock / store; without one, the entry is locked for this call only.
 */
export function markInflight(dir: string, id: string, info: { relay?: string | null; recipients?: string[]; at?: Date }, lock?: OutboxLock): Promise<OutboxEntry> {
  return locked(dir, id, lock, async () => {
    const entry = await read(dir, id);
    const next = withInflight(entry, { relay: info.relay ?? null, recipients: info.recipients ?? entry.pending }, info.at ?? new Date(), process.pid);
    await writeState(dir, next, "state");
    return next;
  });
}

/**
 * Records an attempt's outcome atomically (see state.ts applyOutcome); when nothing is pending
 * and nothing is in doubt the entry is removed (`removed: true`). Pass the lock from withLock / store.
 */
export function markAttempt(dir: string, id: string, outcome: AttemptOutcome, lock?: OutboxLock): Promise<{ entry: OutboxEntry; removed: boolean }> {
  return locked(dir, id, lock, async () => {
    const { entry, finished } = applyOutcome(await read(dir, id), outcome, outcome.at ?? new Date());
    if (finished) {
      await removeEntry(dir, id);
      return { entry, removed: true };
    }
    await writeState(dir, entry, "state");
    return { entry, removed: false };
  });
}

/** Writes an entry's state as given (under its lock): used to move entries between folders. */
export async function writeEntry(dir: string, entry: OutboxEntry, prefix = "state"): Promise<void> {
  await writeState(dir, entry, prefix);
}

/**
 * Runs `fn` with `id`'s lock held and its state freshly read (after locking, so it is current).
 * `busy`: another live process holds it (skip it); `gone`: delivered or dropped meanwhile.
 * A state that cannot be read safely throws (the caller reports it with the id).
 * @example const r = await withLock(dir, id, async (entry, lock) => { …; await markAttempt(dir, id, outcome, lock); });
 */
export async function withLock<T>(
  dir: string,
  id: string,
  fn: (entry: OutboxEntry, lock: OutboxLock) => Promise<T>,
): Promise<{ status: "done"; value: T } | { status: "busy" } | { status: "gone" }> {
  checkId(dir, id);
  const lock = await tryLock(dir, id);
  if (!lock) return { status: "busy" };
  try {
    let entry: OutboxEntry;
    try {
      entry = await read(dir, id);
    } catch (e) {
      if (e instanceof MailplanError && e.code === "USAGE") return { status: "gone" };
      throw e;
    }
    return { status: "done", value: await fn(entry, lock) };
  } finally {
    await lock.release();
  }
}

/** The message file changed after it was queued: it must never be sent. */
export class MessageMismatchError extends MailplanError {
  constructor(id: string, detail: string) {
    super("MESSAGE_INVALID", `The message file of outbox entry ${id} changed on disk (${detail}); it was not sent.`, `look at it with \`mailplan outbox show ${id}\`; drop it with \`mailplan outbox drop ${id}\``);
  }
}

/** Hashes the whole open file; throws MessageMismatchError unless length and SHA-256 match. */
async function verify(fh: Awaited<ReturnType<typeof openEntryFile>>, entry: OutboxEntry): Promise<void> {
  const hash = createHash("sha256");
  const buf = new Uint8Array(65536);
  let n = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, n);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    n += bytesRead;
    if (n > entry.bytes) break;
  }
  if (n !== entry.bytes) throw new MessageMismatchError(entry.id, `${n} bytes, expected ${entry.bytes}`);
  if (hash.digest("hex") !== entry.sha256) throw new MessageMismatchError(entry.id, "its SHA-256 differs");
}

/**
 * The entry's message, checked BEFORE anything is sent: the file is opened without following a
 * symlink, must be ours, and its length and SHA-256 must match the state (else
 * MessageMismatchError, MESSAGE_INVALID). Each open() checks again, then streams from the same
 * open file, so what was checked is what is sent.
 */
export async function openMessage(dir: string, id: string, known?: OutboxEntry): Promise<OutboxMessage> {
  const entry = known ?? await read(dir, id);
  const path = join(dir, `${id}.eml`);
  const fh = await openEntryFile(path);
  try {
    await verify(fh, entry);
  } finally {
    await fh.close();
  }
  return {
    size: entry.size,
    has8bit: entry.has8bit,
    needsSmtpUtf8: entry.needsSmtpUtf8,
    messageId: entry.messageId,
    async *open() {
      const fh = await openEntryFile(path);
      try {
        await verify(fh, entry);
        const buf = new Uint8Array(65536);
        for (let pos = 0; pos < entry.bytes;) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, entry.bytes - pos), pos);
          if (bytesRead === 0) throw new MessageMismatchError(id, "it became shorter while being sent");
          pos += bytesRead;
          yield buf.slice(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    },
  };
}
