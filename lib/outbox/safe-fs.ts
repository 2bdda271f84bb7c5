/**
 * The outbox trusts nothing in its folder that another user could have put there (threats F1,
 * F4): the folder must be a directory owned by the current user and not writable by group or
 * others; entry files are opened without following symlinks and must be regular files owned by
 * the current user, not writable by group or others. Where the platform has no uids (Windows),
 * the ownership checks are skipped.
 * @module
 */
import { constants, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import process from "node:process";
import { MailplanError } from "../codes.ts";

const codeOf = (e: unknown) => (e as { code?: string }).code;
const uid = (): number | null => (typeof process.getuid === "function" ? process.getuid() : null);
const mode = (st: Stats) => `0${(st.mode & 0o777).toString(8)}`;

/** Why a file or folder is not safe to trust, or null when it is. */
export function unsafeReason(st: Stats, what: "folder" | "file"): string | null {
  if (what === "folder" && !st.isDirectory()) return "is not a folder";
  if (what === "file" && !st.isFile()) return "is not a regular file";
  const me = uid();
  if (me === null) return null;
  if (st.uid !== me) return `is owned by another user (uid ${st.uid}, you are ${me})`;
  if ((st.mode & 0o022) !== 0) return `is writable by ${(st.mode & 0o002) ? "every user" : "its group"} (mode ${mode(st)})`;
  return null;
}

/**
 * Refuses an outbox folder another user could write to, with the command that fixes it.
 * A folder that does not exist passes (it is created 0700 when first written).
 * @example await checkOutboxDir("/home/me/.local/state/mailplan/outbox")
 */
export async function checkOutboxDir(dir: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(dir);
  } catch (e) {
    if (codeOf(e) === "ENOENT") return;
    throw e;
  }
  const why = unsafeReason(st, "folder");
  if (!why) return;
  const hint = !st.isDirectory()
    ? "point outbox: (or $MAILPLAN_OUTBOX) at a folder"
    : why.startsWith("is owned")
    ? `use a folder of your own (outbox: in the config, or $MAILPLAN_OUTBOX), or take this one over: chown $(id -u) ${dir} && chmod 700 ${dir}`
    : `chmod 700 ${dir}`;
  throw new MailplanError("CONFIG_INVALID", `The outbox folder ${dir} ${why}: another user could plant or change mail in it, so it is not used.`, hint);
}

/** An entry file opened safely: its handle (read with positions) and its facts. */
export type SafeFile = Awaited<ReturnType<typeof open>>;

/**
 * Opens an entry file for reading without following a symlink, and refuses anything but a
 * regular file of ours that only we can write. ENOENT is passed through (callers treat it as gone).
 */
export async function openEntryFile(path: string): Promise<SafeFile> {
  let fh: SafeFile;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if (codeOf(e) === "ELOOP" || codeOf(e) === "EMLINK") throw new UnsafeEntryError(`${basename(path)} is a symbolic link`);
    throw e;
  }
  try {
    const why = unsafeReason(await fh.stat(), "file");
    if (why) throw new UnsafeEntryError(`${basename(path)} ${why}`);
    return fh;
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

/** Reads a whole entry file (the .json state) safely. */
export async function readEntryText(path: string): Promise<string> {
  const fh = await openEntryFile(path);
  try {
    return new TextDecoder().decode(await fh.readFile());
  } finally {
    await fh.close();
  }
}

/** An entry that is not safe to use: reported with its id, never read further. */
export class UnsafeEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsafeEntryError";
  }
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}
