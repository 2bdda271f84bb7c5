/**
 * Where the outbox lives (contract.md): `outbox:` in the config (relative to the config file),
 * else `$MAILPLAN_OUTBOX`, else the user's state directory.
 * @module
 */
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import process from "node:process";

/** Environment variables the folder rule reads. */
export type OutboxEnv = Record<string, string | undefined>;

function expandHome(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? join(home, p.slice(2)) : p;
}

/**
 * The outbox folder, as an absolute path (not created: see ensureOutboxDir).
 * `configOutbox` is the config's `outbox:` value, `configDir` the config file's folder.
 * @example outboxDir(null, null, { XDG_STATE_HOME: "/s" }) // "/s/mailplan/outbox"
 */
export function outboxDir(
  configOutbox: string | null | undefined,
  configDir: string | null | undefined,
  env: OutboxEnv,
  platform: string = process.platform,
): string {
  const home = env.HOME || (platform === "win32" && env.USERPROFILE) || homedir();
  if (configOutbox) {
    const p = expandHome(configOutbox, home);
    return isAbsolute(p) ? resolve(p) : resolve(configDir ?? process.cwd(), p);
  }
  if (env.MAILPLAN_OUTBOX) return resolve(expandHome(env.MAILPLAN_OUTBOX, home));
  if (platform === "darwin") return join(home, "Library", "Application Support", "mailplan", "outbox");
  if (platform === "win32") {
    return join(env.LOCALAPPDATA || join(home, "AppData", "Local"), "mailplan", "outbox");
  }
  // XDG Base Directory: a relative XDG_STATE_HOME is invalid and must be ignored.
  const state = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(home, ".local", "state");
  return join(state, "mailplan", "outbox");
}

/** Creates the outbox folder (and missing parents) with mode 0700; an existing folder is left as it is. */
export async function ensureOutboxDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}
