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
 * @example commandLine(["bun", "/$bunfs/root/mailplan", "-t"], {}, "/usr/sbin/sendmail") // ["sendmail", "-t"]
 */
export function commandLine(argv: readonly string[], env: Record<string, string | undefined>, argv0 = ""): string[] {
  const rest = argv.slice(2);
  const strip = (p: string) => basename(p).replace(/\.(ts|js|mjs|exe)$/, "");
  // The shim says its name; a script run by a runtime is argv[1]; a standalone binary (bun build
  // --compile) has its own path in argv[1] and the name it was invoked under only in argv0.
  const told = shimName(env);
  const names = told ? [told] : [strip(argv[1] ?? ""), strip(argv0)];
  if (names.includes("sendmail")) return ["sendmail", ...rest];
  if (names.includes("mailq")) return ["sendmail", "-bp", ...rest];
  return rest;
}

/** The shim's `MAILPLAN_INVOKED_AS`; unset when a runtime refuses to let us read it (Deno without --allow-env). */
function shimName(env: Record<string, string | undefined>): string | undefined {
  try {
    return env.MAILPLAN_INVOKED_AS;
  } catch {
    return undefined;
  }
}
