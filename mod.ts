/**
 * mailplan: declarative SMTP sending. Run as a program (`mailplan …`, or from a checkout
 * `bun run mod.ts …` / `deno run -A mod.ts …`) or import the library from here:
 * `import { createMailer } from "mailplan"` (see lib/api/mailer.ts).
 */
import process from "node:process";
import { runCli } from "./lib/cli/main.ts";
import { commandLine } from "./lib/cli/invoked-as.ts";

export { EXIT_CODES, type ErrorCode, MailplanError } from "./lib/codes.ts";
export { type LoadedConfig, loadConfig, parseConfig } from "./lib/config/load.ts";
export { ConfigInvalidError } from "./lib/config/config-error.ts";
export { formatProblem, type Problem } from "./lib/config/problem.ts";
export type { Config } from "./lib/config/schema.ts";
export { resolveSecret, type SecretRef } from "./lib/config/secret.ts";
export { configJsonSchema } from "./lib/config/json-schema.ts";
export { compileConfig, type Envelope, planEnvelope } from "./lib/plan/compile.ts";
export type * from "./lib/plan/types.ts";
export { runCli } from "./lib/cli/main.ts";
export { createMailer } from "./lib/api/mailer.ts";
/** A loopback SMTP server (what `mailplan demo` sends to), to try the library without a real one. */
export { type Sink as DemoSink, type SinkOptions as DemoSinkOptions, startSink as startDemoSink } from "./lib/demo/sink.ts";
export type {
  AttachmentContent, CheckResult, DeliveryError, Mailer, MailerOptions, PlanOptions, Recipients, SecretEnv, SendOptions,
  SendResult, TlsSummary, TransactionResult,
} from "./lib/api/types.ts";

if (import.meta.main) {
  // A reader that went away (EPIPE) must not turn a finished command into a crash: the exit status stands.
  for (const stream of [process.stdout, process.stderr]) stream.on?.("error", () => {});
  const code = await runCli(commandLine(process.argv, process.env, process.argv0), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
  });
  process.exitCode = code;
}
