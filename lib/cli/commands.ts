/** The network-free commands: check, plan, schema. Each returns its exit status. */
import { MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { type LoadedConfig, loadConfig } from "../config/load.ts";
import { chooseConfig } from "../config/locate.ts";
import { formatProblem, problemToJson } from "../config/problem.ts";
import type { Config } from "../config/schema.ts";
import { parseAddressList, parseMailbox } from "../message/address.ts";
import { compileConfig, planEnvelope } from "../plan/compile.ts";
import { listFlag, parseFlags } from "./args.ts";
import type { CliIo } from "./io.ts";
import { escapeLines, escapeText } from "../text/escape.ts";
import { renderConfigPlan, renderEnvelopePlan } from "./render-plan.ts";

const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";

/**
 * `check`: every problem at once; exit 0 without errors (warnings allowed), 78 with. `check
 * --login` is check-login.ts (main.ts sends it there, so this file needs no network code).
 */
export function checkCommand(args: string[], io: CliIo): number {
  const { values } = parseFlags("check", args, {
    config: { type: "string" },
    json: { type: "boolean" },
    relay: { type: "string" }, // with --login only (main.ts routes --login to check-login.ts)
    net: { type: "string" },
  });
  if (values.relay !== undefined || values.net !== undefined) {
    throw new MailplanError("USAGE", `--${values.relay !== undefined ? "relay" : "net"} goes with check --login.`, "add --login to log in to the relays, or drop the option");
  }
  const chosen = chooseConfig("check", values.config, io.env);
  const loaded = loadConfig(chosen.file, { references: true });
  const errors = loaded.problems.filter((p) => p.severity === "error").length;
  const warnings = loaded.problems.length - errors;
  if (values.json) {
    io.out(json({ ok: errors === 0, file: loaded.file, errors, warnings, problems: loaded.problems.map(problemToJson) }));
  } else {
    for (const p of loaded.problems) io.out(formatProblem(p) + "\n");
    const from = chosen.rule === "--config" ? "" : ` (${escapeText(chosen.via)})`;
    const summary = `${escapeText(loaded.file)}${from}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
    const syntax = loaded.problems.some((p) => p.severity === "error" && p.message.startsWith("YAML syntax error"));
    const advice = syntax
      ? "Fix the YAML syntax above first (only the first error of each top-level block is shown: the rest follow from it), then run check again."
      : "Fix the errors above; each names the key, the line and what to write.";
    io.out(errors ? `${summary}. ${advice}\n` : `${summary}: ok\n`);
  }
  return errors ? 78 : 0;
}

/** Loads a config for commands that need a valid one: warnings go to stderr, errors throw CONFIG_INVALID. */
export function requireConfig(file: string, io: CliIo): LoadedConfig & { config: Config } {
  const loaded = loadConfig(file);
  if (!loaded.config) throw new ConfigInvalidError(loaded.problems, loaded.file);
  for (const p of loaded.problems) io.err(escapeText(formatProblem(p)) + "\n");
  return loaded as LoadedConfig & { config: Config };
}

/** `plan`: the plans of all routes, or of one envelope. */
export function planCommand(args: string[], io: CliIo): number {
  const { values } = parseFlags("plan", args, {
    config: { type: "string" },
    from: { type: "string" },
    to: { type: "string", multiple: true },
    route: { type: "string" },
    json: { type: "boolean" },
  });
  const chosen = chooseConfig("plan", values.config, io.env);
  const loaded = requireConfig(chosen.file, io);
  const to = parseAddressList(listFlag(values.to), "recipient").map((m) => m.address);
  if (values.from === undefined && to.length === 0 && values.route === undefined) {
    const plan = compileConfig(loaded.config);
    io.out(values.json ? json(plan) : escapeLines(renderConfigPlan(plan, chosen.described)));
    return 0;
  }
  if (values.from === undefined) throw new MailplanError("USAGE", "plan needs --from together with --to.", "for example: mailplan plan --config mail.yaml --from me@example.com --to you@example.com");
  if (to.length === 0) throw new MailplanError("USAGE", "plan needs --to together with --from.", "for example: mailplan plan --config mail.yaml --from me@example.com --to you@example.com");
  const from = values.from.trim() === "" ? "" : parseMailbox(values.from, "sender").address; // "" is the null sender
  const plan = planEnvelope(loaded.config, { from, to }, { route: values.route });
  io.out(values.json ? json(plan) : escapeLines(renderEnvelopePlan(plan, chosen.described)));
  return 0;
}

/** `schema`: the config's JSON Schema (its converter is loaded only here, to keep other commands' start-up short). */
export async function schemaCommand(args: string[], io: CliIo): Promise<number> {
  parseFlags("schema", args, {});
  const { configJsonSchema } = await import("../config/json-schema.ts");
  io.out(json(configJsonSchema()));
  return 0;
}
