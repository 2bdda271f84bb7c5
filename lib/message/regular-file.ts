/**
 * Opening the files a message is made of (`--text-file`, `--html-file`, `--attach`, `--message`)
 * safely (threat F7). Invariants: only regular files are opened for reading; the file is opened
 * non-blocking and checked with fstat on the same descriptor, so a FIFO without a writer cannot
 * hang the event loop, a device such as /dev/zero is never read, and a file swapped after a
 * check is still refused; sizes are capped before any byte is read.
 * @module
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/** Size caps, stated in the README ("Files mailplan reads"). */
export const MESSAGE_FILE_LIMITS = {
  /** `--text-file`, `--html-file`: read whole, then encoded. */
  body: 10 * 1024 * 1024,
  /** Each `--attach` file: streamed, so this bounds the message, not memory. */
  attachment: 50 * 1024 * 1024,
} as const;

/** Why a path cannot be read as a regular file: "does not exist", "is a FIFO (named pipe), not a regular file", … */
export class NotRegularFile extends Error {
  constructor(readonly reason: "missing" | "folder" | "special" | "too-big" | "unreadable", what: string) {
    super(what);
  }
}

/**
 * "is a FIFO (named pipe)…" for anything but a regular file, else undefined.
 *
 * @example describeNotRegular(await stat("/dev/zero")) // "is a device, not a regular file"
 */
export function describeNotRegular(st: Stats): NotRegularFile | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return new NotRegularFile("folder", "is a folder, not a regular file");
  const kind = st.isFIFO() ? "a FIFO (named pipe)" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : st.isSocket() ? "a socket" : "not a plain file";
  return new NotRegularFile("special", `is ${kind}, not a regular file`);
}

/**
 * A size as people read it.
 *
 * @example formatSize(10 * 1024 * 1024) // "10 MiB"
 */
export function formatSize(n: number): string {
  const MIB = 1024 * 1024;
  if (n >= MIB) return `${Number.isInteger(n / MIB) ? n / MIB : (n / MIB).toFixed(1)} MiB`;
  return n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} bytes`;
}

/**
 * Opens a regular file of at most `max` bytes (Infinity: no cap) for reading; the caller closes
 * the handle. Throws NotRegularFile saying why not.
 *
 * @example const { fh, size } = await openRegularFile("a.pdf", MESSAGE_FILE_LIMITS.attachment);
 */
export async function openRegularFile(path: string, max = Infinity): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new NotRegularFile("missing", "does not exist");
    if (code === "EISDIR") throw new NotRegularFile("folder", "is a folder, not a regular file");
    throw new NotRegularFile("unreadable", `cannot be read (${code ?? "error"})`);
  }
  try {
    const st = await fh.stat();
    const refusal = describeNotRegular(st);
    if (refusal) throw refusal;
    if (st.size > max) throw new NotRegularFile("too-big", `is ${formatSize(st.size)}, over the ${formatSize(max)} limit`);
    return { fh, size: st.size };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
