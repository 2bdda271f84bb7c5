/**
 * The command line mailplan runs, from the program's name: invoked as `sendmail` (a symlink
 * /usr/sbin/sendmail → mailplan, or the installed shim's `MAILPLAN_INVOKED_AS=sendmail`) it is
 * `mailplan sendmail …`; as `mailq` it is `mailplan sendmail -bp …`; otherwise the arguments as given.
 * @module
 */
import { basename } from "node:path";

/**
 * Turns `process.argv` (runtime, script, arguments…) into the arguments of runCli.
 * @example commandLine(["bun", "/usr/sbin/sendmail", "-t"], {}) // ["sendmail", "-t"]
 * @example commandLine(["bun", "mod.ts", "send"], {}) // ["send"]
 */
export function commandLine(argv: readonly string[], env: Record<string, string | undefined>): string[] {
  const rest = argv.slice(2);
  const name = (env.MAILPLAN_INVOKED_AS || basename(argv[1] ?? "")).replace(/\.(ts|js|mjs|exe)$/, "");
  if (name === "sendmail") return ["sendmail", ...rest];
  if (name === "mailq") return ["sendmail", "-bp", ...rest];
  return rest;
}
