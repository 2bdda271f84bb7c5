/**
 * The outbox: messages that could not be delivered yet. Each entry is two files in the outbox
 * folder: `<id>.eml` (the exact message bytes) and `<id>.json` (envelope and delivery state).
 * Every write is atomic (temporary file, fsync, rename, fsync of the folder), the .eml always
 * before the .json, and the .json is the entry's commit point: an .eml without a .json is an
 * unfinished enqueue, never sent, and removed by `list`. Removal deletes the .json first.
 * Every change to an entry happens under its lock (see lock.ts).
 * @module
 */
import { readdir, readFile, stat, unlink } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import process from "node:process";
import { MailplanError } from "../codes.ts";
import type { MessageSource } from "../engine/types.ts";
import { readFileChunks } from "../message/raw.ts";
import { fsyncDir, step, tempName, writeAtomic } from "./atomic.ts";
import { ensureOutboxDir } from "./dir.ts";
import { isOutboxId, newOutboxId } from "./id.ts";
import { lockHolder, type OutboxLock, tryLock } from "./lock.ts";

/** A failure as the outbox records it. */
export interface OutboxError {
  code: string;
  message: string;
}

/** One delivery attempt (at enqueue time: the attempts `send` made). */
export interface OutboxAttempt {
  at: string;
  relay: string | null;
  accepted: string[];
  rejected: string[];
  error: OutboxError | null;
}

/** The `<id>.json` state file. */
export interface OutboxEntry {
  version: 1;
  id: string;
  created: string;
  envelope: { from: string; recipients: string[] };
  route: string | null;
  /** Absolute path of the config the message was queued with: `outbox flush` uses it when no --config is given. */
  config: string | null;
  /** Recipients still to deliver, in envelope order. */
  pending: string[];
  /** Recipients the server accepted with a final 250: never sent again. */
  done: { address: string; at: string; relay: string | null }[];
  /** Recipients refused permanently: never sent again. */
  rejected: { address: string; code: number; text: string; at: string }[];
  attempts: OutboxAttempt[];
  /** Not before this time (ISO); `flush` may ignore it. */
  nextAttempt: string;
  /**
   * Set by beginAttempt, cleared by markAttempt. Still set when the entry is not locked means a
   * process died mid-attempt: the server may already have these recipients (DELIVERY_UNKNOWN).
   */
  inflight: { at: string; relay: string | null; pid: number; recipients: string[] } | null;
  /** Why the message was queued. */
  reason: OutboxError;
  messageId: string | null;
  /** MessageSource.size (octets after CRLF normalisation, for SIZE=). */
  size: number;
  /** Length of `<id>.eml` in bytes, and its SHA-256 (hex): checked by list and open. */
  bytes: number;
  sha256: string;
  has8bit: boolean;
  needsSmtpUtf8: boolean;
}

/** What to enqueue. */
export interface EnqueueInput {
  envelope: { from: string; recipients: string[] };
  route?: string | null;
  /** The config file in use (absolute path), remembered for `outbox flush`. */
  config?: string | null;
  message: MessageSource;
  reason: OutboxError;
  /** Attempts already made (e.g. by `send` before giving up). */
  attempts?: OutboxAttempt[];
  /** Recipients already delivered by `send` (excluded from pending). */
  done?: { address: string; relay?: string | null }[];
  /** Recipients already refused permanently by `send` (excluded from pending). */
  rejected?: { address: string; code: number; text: string }[];
  nextAttempt?: Date;
  now?: Date;
}

/** The result of one attempt at an entry. */
export interface AttemptOutcome {
  relay?: string | null;
  /** Recipients of a transaction that ended with the server's final 250. */
  accepted: string[];
  /** Recipients refused with a 5xx (or whose transaction got a 5xx). */
  rejectedPermanent: ({ address: string; code: number; text: string } | string)[];
  /** Why the rest is still pending (null when nothing else is). */
  temporaryError: OutboxError | null;
  at?: Date;
  nextAttempt?: Date;
}

/** An entry `list` could not use. */
export interface OutboxProblem {
  id: string;
  /** incomplete: .eml without .json (an interrupted enqueue); corrupt: unreadable state or message. */
  kind: "incomplete" | "corrupt";
  detail: string;
  /** True when list removed it (only incomplete entries whose writer is gone). */
  removed: boolean;
}

/** Delay before the n-th retry (1-based): 5 min doubling, at most 4 h. */
export function retryDelayMs(n: number): number {
  return Math.min(5 * 60_000 * 2 ** Math.max(0, n - 1), 4 * 3600_000);
}

const codeOf = (e: unknown) => (e as { code?: string }).code;

function checkId(dir: string, id: string): void {
  if (!isOutboxId(id)) {
    throw new MailplanError("USAGE", `${JSON.stringify(id)} is not an outbox id.`, `ids look like 20260102T030405678Z-k3j9x2m4q7a5; see \`mailplan outbox list\` (${dir})`);
  }
}

async function unknownId(dir: string, id: string): Promise<MailplanError> {
  const ids = (await list(dir, { cleanup: false })).entries.map((e) => e.id);
  const hint = ids.length === 0
    ? `the outbox (${dir}) is empty`
    : `the outbox holds ${ids.length} ${ids.length === 1 ? "entry" : "entries"}: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""} (see \`mailplan outbox list\`)`;
  return new MailplanError("USAGE", `There is no outbox entry ${JSON.stringify(id)}.`, hint);
}

function isStrArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** Parses and checks a state file; throws an Error saying what is wrong. */
export function parseEntry(text: string, id: string): OutboxEntry {
  const e = JSON.parse(text) as OutboxEntry;
  const bad = (what: string) => new Error(`${id}.json: ${what}`);
  if (e?.version !== 1) throw bad("unknown version");
  if (e.id !== id) throw bad("id does not match the file name");
  if (typeof e.envelope?.from !== "string" || !isStrArray(e.envelope.recipients)) throw bad("bad envelope");
  if (!isStrArray(e.pending) || !Array.isArray(e.done) || !Array.isArray(e.rejected) || !Array.isArray(e.attempts)) {
    throw bad("bad recipient state");
  }
  if (typeof e.bytes !== "number" || typeof e.sha256 !== "string" || typeof e.size !== "number") throw bad("bad message facts");
  e.config ??= null;
  return e;
}

async function writeState(dir: string, entry: OutboxEntry, prefix: string): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(entry, null, 2) + "\n");
  await writeAtomic(dir, `${entry.id}.json`, tempName(entry.id, "json"), [bytes], prefix);
}

/** Removes an entry: .json first (the entry ceases to exist atomically), then the .eml. */
async function removeEntry(dir: string, id: string): Promise<void> {
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

/**
 * Stores a message and its envelope; returns the new entry's id once both files are durable.
 * @example const id = await enqueue(dir, { envelope, message, reason: { code: "TEMPORARY_FAILURE", message: "451 …" } });
 */
export async function enqueue(dir: string, input: EnqueueInput): Promise<string> {
  await ensureOutboxDir(dir);
  const now = input.now ?? new Date();
  const id = newOutboxId(now);
  const lock = await tryLock(dir, id);
  if (!lock) throw new Error(`outbox id collision: ${id}`);
  try {
    const hash = createHash("sha256");
    let bytes: number;
    try {
      bytes = await writeAtomic(dir, `${id}.eml`, tempName(id, "eml"), input.message.open(), "eml", (c) => hash.update(c));
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
    return id;
  } finally {
    await lock.release();
  }
}

/** Reads one entry's state. Unknown id: MailplanError USAGE whose hint lists the ids. */
export async function read(dir: string, id: string): Promise<OutboxEntry> {
  checkId(dir, id);
  let text: string;
  try {
    text = await readFile(join(dir, `${id}.json`), "utf8");
  } catch (e) {
    if (codeOf(e) === "ENOENT" || codeOf(e) === "ENOTDIR") throw await unknownId(dir, id);
    throw e;
  }
  return parseEntry(text, id);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * Every entry, oldest first, and the problems found. With `cleanup` (default), interrupted
 * enqueues and leftover temporary files whose writer is gone are removed (and reported).
 */
export async function list(dir: string, opts: { cleanup?: boolean } = {}): Promise<{ entries: OutboxEntry[]; problems: OutboxProblem[] }> {
  const cleanup = opts.cleanup ?? true;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (codeOf(e) === "ENOENT") return { entries: [], problems: [] };
    throw e;
  }
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
  const entries: OutboxEntry[] = [];
  const problems: OutboxProblem[] = [];
  for (const id of [...byId.keys()].sort()) {
    const s = byId.get(id)!;
    if (s.json) {
      const jsonPath = join(dir, `${id}.json`);
      try {
        const text = await readFile(jsonPath, "utf8").catch((e) => {
          if (codeOf(e) === "ENOENT") return null; // delivered or dropped meanwhile
          throw e;
        });
        if (text === null) continue;
        const entry = parseEntry(text, id);
        const st = await stat(join(dir, `${id}.eml`)).catch(() => null);
        if (!st) {
          if (!(await exists(jsonPath))) continue; // removal in progress (.json goes first)
          throw new Error(`${id}.eml is missing`);
        }
        if (st.size !== entry.bytes) throw new Error(`${id}.eml has ${st.size} bytes, the state says ${entry.bytes}`);
        entries.push(entry);
      } catch (e) {
        problems.push({ id, kind: "corrupt", detail: (e as Error).message, removed: false });
      }
      if (!cleanup || (s.temps.length === 0 && !s.brk)) continue;
    } else if (!cleanup) {
      if (s.eml && !(await lockHolder(dir, id)) && !(await exists(join(dir, `${id}.json`)))) {
        problems.push({ id, kind: "incomplete", detail: `${id}.eml has no ${id}.json (an interrupted enqueue or removal)`, removed: false });
      }
      continue;
    }
    // Cleanup, only with the entry's lock: .eml/.json temporaries are only written under it, and a
    // contender's lock candidate or break mutex is useless while we hold the lock.
    const lock = await tryLock(dir, id);
    if (!lock) continue;
    try {
      for (const t of s.temps) await unlink(join(dir, t)).catch(() => {});
      if (s.brk) await unlink(join(dir, `${id}.lock.break`)).catch(() => {});
      if (s.eml && !(await exists(join(dir, `${id}.json`)))) {
        await unlink(join(dir, `${id}.eml`)).catch(() => {});
        await fsyncDir(dir);
        problems.push({ id, kind: "incomplete", detail: `${id}.eml had no ${id}.json (an interrupted enqueue or removal); removed`, removed: true });
      }
    } finally {
      await lock.release();
    }
  }
  return { entries, problems };
}

/**
 * Removes an entry (both files). Unknown id: USAGE with the ids as hint; an entry being sent
 * right now: TEMPORARY_FAILURE. Returns the state it had (null for an incomplete entry).
 */
export async function drop(dir: string, id: string): Promise<OutboxEntry | null> {
  checkId(dir, id);
  const [json, eml] = await Promise.all([exists(join(dir, `${id}.json`)), exists(join(dir, `${id}.eml`))]);
  if (!json && !eml) throw await unknownId(dir, id);
  const lock = await tryLock(dir, id);
  if (!lock) {
    const who = await lockHolder(dir, id);
    throw new MailplanError("TEMPORARY_FAILURE", `Outbox entry ${id} is being sent right now${who?.pid ? ` (process ${who.pid})` : ""}.`, "try again when that flush has finished");
  }
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
 * Records that an attempt is starting (call right before sending): sets `inflight`. Pass the
 * lock from withLock; without one, the entry is locked for the duration of this call only.
 */
export function beginAttempt(dir: string, id: string, info: { relay?: string | null; at?: Date }, lock?: OutboxLock): Promise<OutboxEntry> {
  return locked(dir, id, lock, async () => {
    const entry = await read(dir, id);
    entry.inflight = { at: (info.at ?? new Date()).toISOString(), relay: info.relay ?? null, pid: process.pid, recipients: [...entry.pending] };
    await writeState(dir, entry, "state");
    return entry;
  });
}

/**
 * Records an attempt's outcome atomically: accepted recipients move to `done`, permanently
 * refused ones to `rejected` (neither is ever sent again); when none is pending any more the
 * entry is removed (`removed: true`). Pass the lock from withLock.
 */
export function markAttempt(dir: string, id: string, outcome: AttemptOutcome, lock?: OutboxLock): Promise<{ entry: OutboxEntry; removed: boolean }> {
  return locked(dir, id, lock, async () => {
    const entry = await read(dir, id);
    const at = (outcome.at ?? new Date()).toISOString();
    const relay = outcome.relay ?? null;
    const pending = new Set(entry.pending);
    const accepted = outcome.accepted.filter((a) => pending.delete(a));
    const rejected = outcome.rejectedPermanent
      .map((r) => typeof r === "string" ? { address: r, code: 550, text: "" } : r)
      .filter((r) => pending.delete(r.address));
    for (const a of accepted) entry.done.push({ address: a, at, relay });
    for (const r of rejected) entry.rejected.push({ address: r.address, code: r.code, text: r.text, at });
    entry.pending = entry.pending.filter((p) => pending.has(p));
    entry.attempts.push({ at, relay, accepted, rejected: rejected.map((r) => r.address), error: outcome.temporaryError });
    entry.inflight = null;
    if (entry.pending.length === 0) {
      await removeEntry(dir, id);
      return { entry, removed: true };
    }
    const next = outcome.nextAttempt ?? new Date(Date.parse(at) + retryDelayMs(entry.attempts.length));
    entry.nextAttempt = next.toISOString();
    await writeState(dir, entry, "state");
    return { entry, removed: false };
  });
}

/**
 * Runs `fn` with `id`'s lock held and its state freshly read (after locking, so it is current).
 * `busy`: another live process holds it (skip it); `gone`: delivered or dropped meanwhile.
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
      if (e instanceof MailplanError) return { status: "gone" };
      throw e;
    }
    return { status: "done", value: await fn(entry, lock) };
  } finally {
    await lock.release();
  }
}

/** True when the entry's next attempt time has come. */
export function isDue(entry: OutboxEntry, now: Date = new Date()): boolean {
  return Date.parse(entry.nextAttempt) <= now.getTime();
}

/**
 * The entry's message as a MessageSource: each open() streams `<id>.eml` again and, before
 * ending, checks its length and SHA-256 against the state, throwing MESSAGE_INVALID on a
 * mismatch (so a damaged file fails before the final `.`, and is never delivered).
 */
export async function openMessage(dir: string, id: string): Promise<MessageSource> {
  const entry = await read(dir, id);
  const path = join(dir, `${id}.eml`);
  return {
    size: entry.size,
    has8bit: entry.has8bit,
    needsSmtpUtf8: entry.needsSmtpUtf8,
    messageId: entry.messageId,
    async *open() {
      const hash = createHash("sha256");
      let n = 0;
      for await (const c of readFileChunks(path)) {
        hash.update(c);
        n += c.length;
        yield c;
      }
      if (n !== entry.bytes || hash.digest("hex") !== entry.sha256) {
        throw new MailplanError("MESSAGE_INVALID", `The message file of outbox entry ${id} changed on disk (${n} bytes, expected ${entry.bytes}).`, `drop it with \`mailplan outbox drop ${id}\``);
      }
    },
  };
}
