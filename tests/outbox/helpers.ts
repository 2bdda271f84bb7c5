/** Shared test helpers: temporary folders, messages, and child processes on the current runtime. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import type { MessageSource } from "../../lib/engine/types.ts";

export const root = join(import.meta.dirname!, "..", "..");
export const workerPath = join(import.meta.dirname!, "worker.ts");

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `mailplan-outbox-${tag}-`));
}

/** A message of about `size` bytes with CRLF lines and some 8-bit bytes. */
export function message(size = 1000, seed = 1): { bytes: Uint8Array; source: MessageSource } {
  const head = `From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: <m${seed}@example.com>\r\nSubject: t\r\n\r\n`;
  const enc = new TextEncoder();
  const body = new Uint8Array(Math.max(0, size - head.length));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < body.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    body[i] = i % 80 === 78 ? 13 : i % 80 === 79 ? 10 : 32 + (x % 200);
  }
  const bytes = new Uint8Array([...enc.encode(head), ...body]);
  return { bytes, source: messageFromBytes(bytes) };
}

export { collect } from "../../lib/message/compose.ts";

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Starts tests/outbox/worker.ts under the runtime running the tests (process.execPath). */
export function spawnWorker(args: string[]): ChildProcess {
  const argv = isDeno ? ["run", "-A", "--no-lock", workerPath, ...args] : [workerPath, ...args];
  return spawn(process.execPath, argv, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
}

/** Waits for a child to exit; resolves with its exit code, signal and output. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  let out = "", err = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (err += d));
  return new Promise((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** Resolves when the child prints a line containing `marker`. */
export function printed(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout?.on("data", (d) => {
      buf += d;
      if (buf.includes(marker)) resolve();
    });
    child.on("close", () => reject(new Error(`child exited before printing ${marker}: ${buf}`)));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32), so a failing run can be repeated with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
