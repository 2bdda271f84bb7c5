/**
 * `probe`: diagnose a mail server's ports and TLS, explain each problem with its fix, and write
 * the relay block for what was found; with `--relay`, flag every contradiction between the relay
 * and the server; with a config and neither HOST nor --relay, probe every relay (a table, probe-all.ts). The
 * work is in lib/probe/; this file parses the command line.
 */
import { MailplanError } from "../codes.ts";
import { chooseConfig, locateConfig } from "../config/locate.ts";
import { parseDuration } from "../config/duration.ts";
import { loadRelay } from "../probe/relay.ts";
import { renderProbe } from "../probe/render.ts";
import { exitStatus, probe } from "../probe/run.ts";
import { parseTarget } from "../probe/target.ts";
import { parseFlags } from "./args.ts";
import type { CliIo } from "./io.ts";
import { escapeLines } from "../text/escape.ts";
import { HELP } from "./help.ts";


const FLAGS = {
  config: { type: "string" },
  relay: { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  ca: { type: "string" },
  "server-name": { type: "string" },
} as const;

/** `probe`: prints the report (human or --json) and returns the exit status. */
export async function probeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("probe", args, FLAGS, 1);
  if (values.help) {
    io.out(HELP.probe);
    return 0;
  }
  const target = positionals[0] === undefined ? null : parseTarget(positionals[0]);
  if (target && values.config !== undefined && values.relay === undefined) {
    throw new MailplanError("USAGE", "probe HOST with --config needs --relay (the relay to compare the server with).", "add --relay NAME, or drop HOST to probe every relay of the config");
  }
  const timeoutMs = timeoutFlag(values.timeout);
  const wantsConfig = values.relay !== undefined || !target;
  const located = wantsConfig ? locateConfig(values.config, io.env) : null;
  if (!target && located && !located.found) {
    throw new MailplanError(
      "USAGE",
      `probe needs a HOST[:PORT], or a config (no --config, no $MAILPLAN_CONFIG, and nothing at ${located.tried.join(" or ")}).`,
      "for example: mailplan probe smtp.example.com, or mailplan probe --config mail.yaml [--relay primary]",
    );
  }
  const file = located?.found ? chooseConfig("probe", values.config, io.env).file : undefined;
  if (file !== undefined && values.relay === undefined) {
    return await (await import("./probe-all.ts")).probeAllCommand(file, { json: values.json ?? false, timeout: values.timeout }, io);
  }
  if (values.relay !== undefined && file === undefined) chooseConfig("probe", values.config, io.env); // throws: where it looked
  const relay = file !== undefined ? loadRelay(file, values.relay!) : undefined;
  const host = target?.host ?? relay!.host;
  const port = target?.port ?? null; // none: the relay's port, else 465, 587 and 25
  const report = await probe({
    host,
    ports: port === null ? undefined : [port],
    relay,
    caFile: values.ca,
    serverName: values["server-name"],
    timeoutMs,
  });
  io.out(values.json ? JSON.stringify(report, null, 2) + "\n" : escapeLines(renderProbe(report)));
  return exitStatus(report);
}

function timeoutFlag(value: string | undefined): number {
  if (value === undefined) return 5000;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 100 || ms > 600_000) {
    throw new MailplanError("USAGE", `--timeout "${value}" is not a duration from 100ms to 10m.`, "write it like 5s, 1500ms or 1m");
  }
  return ms;
}
