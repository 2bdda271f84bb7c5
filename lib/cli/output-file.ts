/**
 * Files the CLI writes besides stdout (`send --transcript`). Each is opened and checked BEFORE
 * anything is connected, so a bad path is a USAGE error while nothing has been sent; once the
 * server has the message, writing it can only produce a warning (a delivered message is never
 * reported as failed).
 *
 * Invariants: the file is created 0600 (an existing one is set to 0600), a symbolic link at the
 * path is never followed (O_NOFOLLOW: refused, threats.md F4), only a regular file is written
 * (a FIFO or device is refused without blocking: O_NONBLOCK), and the text is written once, whole.
 * @module
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Buffer } from "node:buffer";
import { MailplanError } from "../codes.ts";
import { permissionError } from "../permission.ts";
import { safeText } from "./io.ts";

/** An output file opened ahead; `write` never throws. */
export interface OutputFile {
  readonly path: string;
  /** Writes `text` and closes the file; returns a warning sentence when that failed, else null. */
  write(text: string): string | null;
  /** Closes without writing (nothing to report). */
  close(): void;
}

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function refuse(flag: string, path: string, why: string, hint: string): never {
  throw new MailplanError("USAGE", `${flag} ${safeText(path)}: ${why}.`, hint);
}

/**
 * Opens `path` for `flag` (e.g. `--transcript`) or throws USAGE naming the problem and the fix.
 *
 * @example
 * ```ts
 * const out = openOutputFile("./transcript.txt", "--transcript");   // before connecting
 * const warning = out.write(transcript.toString());            // after the send: null or a sentence
 * ```
 */
export function openOutputFile(path: string, flag: string): OutputFile {
  const abs = resolve(path);
  let fd: number;
  try {
    fd = openSync(abs, FLAGS, 0o600);
  } catch (e) {
    const denied = permissionError(e); // Deno without --allow-write for it: name the flag
    if (denied) throw denied;
    const code = (e as { code?: string }).code;
    if (code === "ELOOP" || code === "EMLINK") refuse(flag, abs, "is a symbolic link, and mailplan never writes through one", "give the real path, or remove the link");
    if (code === "ENOENT") refuse(flag, abs, `the folder ${safeText(dirname(abs))} does not exist`, "create it first, or choose another path");
    if (code === "ENOTDIR") refuse(flag, abs, "a part of the path is not a folder", "choose another path");
    if (code === "EISDIR") refuse(flag, abs, "is a folder", "give a file name inside it");
    if (code === "ENXIO") refuse(flag, abs, "is a FIFO or device, not a regular file", "give the path of a regular file");
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") refuse(flag, abs, "cannot be written (permission denied or read-only)", "choose a path you can write");
    refuse(flag, abs, `cannot be opened (${safeText((e as Error).message ?? String(e))})`, "choose another path");
  }
  try {
    if (!fstatSync(fd).isFile()) refuse(flag, abs, "is not a regular file", "give the path of a regular file");
    try {
      fchmodSync(fd, 0o600);
    } catch {
      // Not ours to change (another user's file we may write): keep its mode.
    }
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    path: abs,
    write(text) {
      try {
        const bytes = Buffer.from(text, "utf8");
        for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
        return null;
      } catch (e) {
        return `could not write ${flag} ${safeText(abs)}: ${safeText((e as Error).message ?? String(e))}`;
      } finally {
        try {
          close();
        } catch {
          // closing a file that failed to write: nothing more to say
        }
      }
    },
    close,
  };
}
