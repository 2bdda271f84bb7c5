/**
 * Reading the small files a config points to (the config itself, `ca:`, `client_cert`, `{ file: }`
 * secrets) safely (threat F7). Invariants: only regular files are read; a FIFO, a device or a
 * folder is refused before a byte is read (the file is opened non-blocking and checked with
 * fstat, so a FIFO without a writer cannot hang the event loop and /dev/zero cannot fill memory);
 * at most `max` bytes are ever read, whatever the file grows to meanwhile.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { permissionError } from "../permission.ts";

/** Size caps, stated in the README ("Files mailplan reads"). */
export const FILE_LIMITS = {
  /** The YAML config. */
  config: 1024 * 1024,
  /** A `ca:` bundle, a client certificate or its key. */
  pem: 1024 * 1024,
  /** A `{ file: }` secret. */
  secret: 64 * 1024,
} as const;

/** Why a file cannot be used: a sentence fragment after the file's name, and the fix. */
export interface FileRefusal {
  reason: "missing" | "folder" | "special" | "too-big" | "unreadable";
  /** e.g. "is a FIFO (named pipe), not a regular file". */
  message: string;
  hint: string;
}

/** The file's bytes as UTF-8 text and its permission bits, or why it was refused. */
export type ReadResult = { ok: true; text: string; mode: number } | { ok: false; refusal: FileRefusal };

const MIB = 1024 * 1024;
/**
 * A size as people read it: "1 MiB", "64 KiB", "300 bytes".
 *
 * @example formatSize(65536) // "64 KiB"
 */
export function formatSize(n: number): string {
  if (n >= MIB && n % MIB === 0) return `${n / MIB} MiB`;
  if (n >= MIB) return `${(n / MIB).toFixed(1)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * Why a file of this kind is not a regular file, or undefined when it is one.
 *
 * @example notRegular(statSync("/dev/zero"))?.message // "is a device, not a regular file"
 */
export function notRegular(st: Stats): FileRefusal | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return { reason: "folder", message: "is a folder, not a regular file", hint: "give the path of the file inside it" };
  const kind = st.isFIFO() ? "a FIFO (named pipe)" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : st.isSocket() ? "a socket" : "not a plain file";
  return { reason: "special", message: `is ${kind}, not a regular file`, hint: "mailplan reads only regular files here; copy the content into a file" };
}

/**
 * Reads a regular file of at most `max` bytes as UTF-8. Never blocks on a FIFO, never reads past
 * `max` (+1 byte to notice growth).
 *
 * @example const r = readRegularFile("mail.yaml", FILE_LIMITS.config); if (r.ok) parse(r.text);
 */
export function readRegularFile(path: string, max: number): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const denied = permissionError(e); // Deno without --allow-read for it: name the flag
    if (denied) throw denied;
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { ok: false, refusal: { reason: "missing", message: "does not exist", hint: "check the path" } };
    if (code === "EISDIR") return { ok: false, refusal: { reason: "folder", message: "is a folder, not a regular file", hint: "give the path of the file inside it" } };
    return { ok: false, refusal: { reason: "unreadable", message: `cannot be read (${code ?? "error"})`, hint: "check its permissions" } };
  }
  try {
    const st = fstatSync(fd);
    const refusal = notRegular(st);
    if (refusal) return { ok: false, refusal };
    const tooBig = (): ReadResult => ({
      ok: false,
      refusal: { reason: "too-big", message: `is larger than the ${formatSize(max)} limit`, hint: "is this the right file?" },
    });
    if (st.size > max) return tooBig();
    const buf = new Uint8Array(max + 1); // one byte more than allowed, to notice a file that grew
    let len = 0;
    for (;;) {
      if (len === buf.length) break;
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > max) return tooBig();
    return { ok: true, text: new TextDecoder().decode(buf.subarray(0, len)), mode: st.mode & 0o7777 };
  } catch (e) {
    const code = (e as { code?: string }).code;
    return { ok: false, refusal: { reason: "unreadable", message: `cannot be read (${code ?? "error"})`, hint: "check its permissions" } };
  } finally {
    closeSync(fd);
  }
}
