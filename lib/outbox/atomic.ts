/**
 * Crash-safe file writes: data goes to a temporary file in the same folder, is fsynced, renamed
 * over the final name, and the folder is fsynced so the rename itself is durable. On any failure
 * (a full disk, a read-only folder, EACCES) the temporary file is removed: nothing is left behind.
 * @module
 */
import { open, rename, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/**
 * A test seam: called at each crash-relevant step. Tests kill the process there, or throw an
 * error (e.g. ENOSPC) to inject a filesystem failure at that step.
 */
export const outboxHooks: { step: ((name: string) => void | Promise<void>) | null } = { step: null };

/** Runs the test hook for `name`, if any. */
export async function step(name: string): Promise<void> {
  if (outboxHooks.step) await outboxHooks.step(name);
}

/** Name of a temporary file for `id`'s `kind` (dot-prefixed, so listings skip it). */
export function tempName(id: string, kind: string): string {
  return `.${id}.${kind}.${randomBytes(6).toString("hex")}.tmp`;
}

/** fsyncs a folder so renames and unlinks in it survive a power loss (best effort where unsupported). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (e) {
    const code = (e as { code?: string }).code;
    // Windows and some filesystems cannot open or fsync a folder; the rename is still atomic there.
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "ENOTSUP" && code !== "EACCES") throw e;
  } finally {
    await fh?.close();
  }
}

/** Writes every byte of `bytes` to the open file. */
async function writeAll(fh: Awaited<ReturnType<typeof open>>, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
}

/**
 * Streams `chunks` into `dir/final` atomically (mode 0600). `onChunk` sees every chunk written
 * (for hashing). Returns the number of bytes written. `stepPrefix` names the test-hook steps
 * (`-open`, `-written`, `-renamed`).
 */
export async function writeAtomic(
  dir: string,
  final: string,
  tmp: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  stepPrefix: string,
  onChunk?: (c: Uint8Array) => void,
): Promise<number> {
  const tmpPath = join(dir, tmp);
  let bytes = 0;
  let renamed = false;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await step(`${stepPrefix}-open`);
    fh = await open(tmpPath, "wx", 0o600);
    for await (const c of chunks) {
      onChunk?.(c);
      await step(`${stepPrefix}-write`);
      await writeAll(fh, c);
      bytes += c.length;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await step(`${stepPrefix}-written`);
    await rename(tmpPath, join(dir, final));
    renamed = true;
  } catch (e) {
    await fh?.close().catch(() => {});
    if (!renamed) await unlink(tmpPath).catch(() => {});
    throw e;
  }
  await step(`${stepPrefix}-renamed`);
  await fsyncDir(dir);
  return bytes;
}
