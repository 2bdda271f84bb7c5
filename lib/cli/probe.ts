/**
 * `probe`: diagnose a mail server's ports and TLS, explain each problem with its fix, and write
 * the relay block for what was found; with `--config/--relay`, flag every contradiction between
 * the relay and the server. The work is in lib/probe/; this file parses the command line.
 */
import { MailplanError } from "../codes.ts";
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
  if (values.config !== undefined && values.relay === undefined && positionals[0] === undefined) { // every relay: a table
    return await (await import("./probe-all.ts")).probeAllCommand(values.config, { json: values.json ?? false, timeout: values.timeout }, io);
  }
  if ((values.config === undefined) !== (values.relay === undefined)) {
    throw new MailplanError("USAGE", "probe needs --config and --relay together.", "for example: mailplan probe --config mail.yaml --relay primary");
  }
  const target = positionals[0] === undefined ? null : parseTarget(positionals[0]);
  const relay = values.config !== undefined ? loadRelay(values.config, values.relay!) : undefined;
  if (!target && !relay) {
    throw new MailplanError("USAGE", "probe needs a HOST[:PORT], or --config with --relay.", "for example: mailplan probe smtp.example.com, or mailplan probe --config mail.yaml --relay primary");
  }
  let timeoutMs = 5000;
  if (values.timeout !== undefined) {
    const ms = parseDuration(values.timeout);
    if (ms === undefined || ms < 100 || ms > 600_000) {
      throw new MailplanError("USAGE", `--timeout "${values.timeout}" is not a duration from 100ms to 10m.`, "write it like 5s, 1500ms or 1m");
    }
    timeoutMs = ms;
  }
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
