/**
 * Runtime permissions (Deno): an access Deno did not grant (`Deno.errors.NotCapable`, or
 * `PermissionDenied` before Deno 2) is a command-line problem, not a bug and not a temporary
 * failure. This turns one into a USAGE error that names the permission and the flag granting it.
 * Lowest layer beside `codes.ts`: every layer may ask "was this a permission Deno refused?".
 *
 * Invariant: only errors Deno itself raised for a missing permission are recognised (by name, on
 * the error or its `cause` chain); a file that the operating system refuses (EACCES) is not one.
 * @module
 */
import { MailplanError } from "./codes.ts";

const NAMES = new Set(["NotCapable", "PermissionDenied"]);

/** The `--allow-sys=…` values Deno accepts; other sys resources (e.g. "ca", the system's CA
 * certificates that node:tls reads) can be granted only by a bare `--allow-sys`. */
const SYS_DESCRIPTORS = new Set([
  "hostname", "osRelease", "osUptime", "loadavg", "networkInterfaces", "systemMemoryInfo", "uid", "gid",
  "cpus", "homedir", "username", "userInfo", "statfs", "getPriority", "setPriority", "inspector",
]);

/** The Deno permission error inside `e` (itself or a cause), or null. */
function denoDenial(e: unknown): Error | null {
  for (let x = e, depth = 0; x && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const name = (x as Error).name;
    if (typeof name === "string" && NAMES.has(name)) return x as Error;
  }
  return null;
}

/**
 * When `e` is a permission Deno refused, the USAGE error that says which one and how to grant it;
 * else null. Deno's own text ("Requires env access to "X", run again with the --allow-env flag")
 * gives the kind and the resource; the hint narrows the flag to that resource.
 *
 * @example
 * ```ts
 * const denied = permissionError(e);
 * if (denied) throw denied; // USAGE: Deno did not grant mailplan env access to "SMTP_PASSWORD" …
 * ```
 */
export function permissionError(e: unknown): MailplanError | null {
  const d = denoDenial(e);
  if (!d) return null;
  const text = String(d.message ?? "");
  const m = /Requires (\w+) access(?: to "?([^",]*?)"?)?, run again with the (--allow-[\w-]+) flag/.exec(text);
  const kind = m?.[1] ?? "a";
  const what = m?.[2];
  const flag = m?.[3] ?? "--allow-…";
  const narrowable = what && (kind !== "sys" || SYS_DESCRIPTORS.has(what));
  return new MailplanError(
    "USAGE",
    `Deno did not grant mailplan ${kind} access${what ? ` to "${what}"` : ""}, which this command needs.`,
    `run deno with ${narrowable ? `${flag}=${what} (or ${flag})` : flag}; the README lists the permissions each command needs`,
  );
}
