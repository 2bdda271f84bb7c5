/** The CLI entry: dispatch, `--help`, and turning every failure into one clear paragraph and an exit status. */
import { MailplanError } from "../codes.ts";
import { permissionError } from "../permission.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { formatProblem, problemToJson } from "../config/problem.ts";
import { suggestion } from "../config/suggest.ts";
import process from "node:process";
import { HELP } from "./help.ts";
import { type CliIo, safeText } from "./io.ts";

type Command = (args: string[], io: CliIo) => number | Promise<number>;

/** Each command's module is loaded only when it runs, so `check` does not pay for TLS, SMTP or the sink. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => {
    const { checkCommand } = await import("./commands.ts");
    // --login connects: its module (engine, TLS) is loaded only then.
    return async (args, io) => args.includes("--login") ? (await import("./check-login.ts")).checkLoginCommand(args, io) : checkCommand(args, io);
  },
  plan: async () => (await import("./commands.ts")).planCommand,
  schema: async () => (await import("./commands.ts")).schemaCommand,
  send: async () => (await import("./send.ts")).sendCommand,
  demo: async () => (await import("./demo.ts")).demoCommand,
  outbox: async () => (await import("./outbox.ts")).outboxCommand,
  probe: async () => (await import("./probe.ts")).probeCommand,
  sendmail: async () => (await import("./sendmail.ts")).sendmailCommand,
  completion: async () => (await import("./completion.ts")).completionCommand,
  /** Hidden: relay and route names for the completion scripts (never fails loudly). */
  __complete: async () => (await import("./completion.ts")).completeCommand,
};

/**
 * Runs mailplan with command-line arguments (without the runtime and script) and returns the
 * exit status. Never throws: every failure is printed (human or `--json`) with its contract code.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const wantsJson = argv.includes("--json");
  quietDebugEnv();
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      const topic = command === "help" && rest[0] && HELP[rest[0]] ? rest[0] : "main";
      io.out(HELP[topic]);
      return command === undefined ? 64 : 0;
    }
    if (command === "--version") {
      io.out("mailplan 0.1.0\n");
      return 0;
    }
    const load = COMMANDS[command];
    if (!load) {
      throw new MailplanError("USAGE", `Unknown command "${safeText(command)}".`, suggestion(command, Object.keys(COMMANDS).filter((c) => !c.startsWith("__"))) || "run mailplan --help");
    }
    if (rest.includes("--help") || (rest.includes("-h") && command !== "sendmail")) { // sendmail's -h N is a hop count
      if (!HELP[command]) throw new MailplanError("USAGE", `No help for ${command}.`, "run mailplan --help");
      io.out(HELP[command]);
      return 0;
    }
    return await (await load())(rest, io);
  } catch (e) {
    return report(e, wantsJson, io, argv[0] === "send" || argv[0] === "demo");
  }
}

/**
 * The `yaml` package reads `process.env.LOG_TOKENS` / `LOG_STREAM` (its debug switches) on every
 * parse; under Deno without `--allow-env` for them, that read throws, so every config would need
 * two permissions it has no use for. Those two names read as unset when Deno denies them; every
 * other variable keeps Deno's answer (a denied secret is still reported as denied).
 */
let debugEnvQuieted = false;
function quietDebugEnv(): void {
  const deno = (globalThis as { Deno?: { permissions?: { querySync?: (d: { name: string; variable: string }) => { state: string } } } }).Deno;
  if (!deno?.permissions?.querySync || debugEnvQuieted) return;
  debugEnvQuieted = true;
  if (["LOG_TOKENS", "LOG_STREAM"].every((v) => deno.permissions!.querySync!({ name: "env", variable: v }).state === "granted")) return;
  const env = process.env;
  const debug = (k: string | symbol) => k === "LOG_TOKENS" || k === "LOG_STREAM";
  // An empty target: a proxy over Deno's own env proxy would ask it for descriptors (and throw).
  const quiet = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_t, k) => debug(k) ? safeGet(env, k as string) : Reflect.get(env, k),
    has: (_t, k) => Reflect.has(env, k),
    set: (_t, k, v) => Reflect.set(env, k, v),
    deleteProperty: (_t, k) => Reflect.deleteProperty(env, k),
    ownKeys: () => Reflect.ownKeys(env),
    getOwnPropertyDescriptor: (_t, k) => {
      const d = Reflect.getOwnPropertyDescriptor(env, k);
      return d && { ...d, configurable: true };
    },
  });
  Object.defineProperty(process, "env", { value: quiet, configurable: true, writable: true });
}

function safeGet(env: NodeJS.ProcessEnv, k: string): string | undefined {
  try {
    return env[k];
  } catch {
    return undefined;
  }
}

/** Prints a failure; for commands that send, the JSON error has the contract's full shape (nothing connected yet). */
function report(e: unknown, wantsJson: boolean, io: CliIo, sending: boolean): number {
  const err = e instanceof MailplanError
    ? e
    : permissionError(e) ?? new MailplanError("USAGE", `Unexpected internal error: ${(e as Error)?.message ?? String(e)}.`, "this is a bug in mailplan; please report it with the command you ran");
  const problems = err instanceof ConfigInvalidError ? err.problems : [];
  if (wantsJson) {
    const error = sending
      ? { code: err.code, phase: "connect", temporary: false, message: err.message, hint: err.hint }
      : { code: err.code, message: err.message, hint: err.hint };
    io.out(JSON.stringify({ ok: false, error, problems: problems.map(problemToJson) }, null, 2) + "\n");
  } else {
    for (const p of problems) io.err(safeText(formatProblem(p)) + "\n");
    io.err(`mailplan: ${safeText(err.message)}${err.hint ? ` Hint: ${safeText(err.hint)}.` : ""} (${err.code})\n`.replace(/\.\. /g, ". ").replace(/\?\./g, "?"));
  }
  return err.exitCode;
}
