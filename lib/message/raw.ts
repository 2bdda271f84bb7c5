/**
 * Raw messages (`send --message FILE.eml`, or `-` for stdin): streamed, never read whole into
 * memory, sent unchanged except line endings (CRLF). Dot-stuffing is the SMTP body encoder's job.
 * @module
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { MailplanError } from "../codes.ts";
import { normalizeCrlf } from "./crlf.ts";
import { type RawScan, RawScanner } from "./raw-scan.ts";
import { NotRegularFile, openRegularFile } from "./regular-file.ts";

const CHUNK = 64 * 1024;

/**
 * Reads a file as a stream of chunks, each a fresh Uint8Array the caller may keep. With
 * `reuse`, every chunk is a view into one buffer that is overwritten by the next read: for
 * consumers that finish with a chunk before asking for the next (scanning, copying encoders),
 * it keeps memory flat without waiting for the garbage collector.
 * Only a regular file is read (a FIFO or device is refused with MESSAGE_INVALID, see
 * openRegularFile); at most `limit` bytes are yielded.
 * @example for await (const chunk of readFileChunks("big.eml")) total += chunk.length;
 */
export async function* readFileChunks(path: string, chunkSize = CHUNK, reuse = false, limit = Infinity): AsyncGenerator<Uint8Array> {
  let fh;
  try {
    fh = (await openRegularFile(path)).fh;
  } catch (e) {
    if (!(e instanceof NotRegularFile)) throw e;
    throw new MailplanError("MESSAGE_INVALID", `The file ${JSON.stringify(path)} ${e.message}.`, "mailplan reads regular files only");
  }
  let left = limit;
  try {
    let buf = new Uint8Array(chunkSize);
    while (left > 0) {
      if (!reuse) buf = new Uint8Array(chunkSize);
      const { bytesRead } = await fh.read(buf, 0, Math.min(chunkSize, left), null);
      if (bytesRead === 0) return;
      left -= bytesRead;
      if (reuse) yield buf.subarray(0, bytesRead);
      else yield bytesRead === chunkSize ? buf : buf.slice(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** A raw message ready to send: its pre-scan and a re-startable stream of CRLF-normalised bytes. */
export interface RawMessage {
  /** The file the bytes come from (a temporary spool file for stdin). */
  path: string;
  /** Size, 8-bit, SMTPUTF8, longest line and Message-ID, as the pre-scan found them. */
  scan: RawScan;
  /** The message bytes with CRLF line endings; each call starts from the beginning (retries, failover). */
  stream(): AsyncIterable<Uint8Array>;
  /** Removes the stdin spool file, if any. Safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Copies a stream to a private temporary file (chunk by chunk), so stdin can be scanned and re-read.
 * `inspect` sees each chunk before it is written; when it throws, the copy stops at once and the
 * file is removed (a bad message on stdin never fills the disk).
 * @example const spool = await spoolToTempFile(process.stdin); // … await spool.dispose();
 */
export async function spoolToTempFile(
  source: AsyncIterable<Uint8Array>,
  inspect?: (chunk: Uint8Array) => void,
): Promise<{ path: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "mailplan-msg-"));
  const path = join(dir, "message.eml");
  const dispose = () => rm(dir, { recursive: true, force: true });
  try {
    const fh = await open(path, "wx", 0o600);
    try {
      for await (const chunk of source) {
        const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
        inspect?.(bytes);
        let off = 0;
        while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    await dispose();
    throw e;
  }
  return { path, dispose };
}

/**
 * Opens `--message FILE` (`"-"` reads `stdin`, default process.stdin, spooled to a temporary file),
 * pre-scans it in one streaming pass and returns a RawMessage. Throws MESSAGE_INVALID when the file
 * is missing, not a regular file, or not a message (see RawScanner).
 * @example const msg = await openRawMessage("alert.eml"); session.send(msg.scan.size, msg.stream());
 */
export async function openRawMessage(file: string, stdin?: AsyncIterable<Uint8Array>): Promise<RawMessage> {
  let path = file;
  let dispose = () => Promise.resolve();
  const shown = file === "-" ? "The message on stdin" : `The message file ${JSON.stringify(file)}`;
  const scanner = new RawScanner(shown);
  if (file === "-") {
    // Scanned while it is spooled: a NUL byte or an overlong line stops reading stdin at once.
    const spool = await spoolToTempFile(stdin ?? (process.stdin as AsyncIterable<Uint8Array>), (c) => scanner.push(c));
    path = spool.path;
    dispose = spool.dispose;
  } else {
    try {
      await (await openRegularFile(file)).fh.close();
    } catch (e) {
      const what = e instanceof NotRegularFile ? e.message : "cannot be read";
      const hint = e instanceof NotRegularFile && e.reason === "missing" ? "check the path given to --message" : "give --message the path of a regular .eml file (or - for stdin)";
      throw new MailplanError("MESSAGE_INVALID", `${shown} ${what === "does not exist" ? "does not exist or cannot be read" : what}.`, hint);
    }
  }
  try {
    if (file !== "-") for await (const chunk of readFileChunks(path, CHUNK, true)) scanner.push(chunk);
    const scan = scanner.finish();
    // The normaliser copies each chunk, so the read buffer can be reused.
    return { path, scan, stream: () => normalizeCrlf(readFileChunks(path, CHUNK, true)), dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}
