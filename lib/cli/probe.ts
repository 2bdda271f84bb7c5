/**
 * `probe`: diagnose a mail server's ports and TLS, explain each problem with its fix, and write
 * the relay block for what was found; with `--relay`, flag every contradiction between the relay
 * and the server; with a config and neither HOST nor --relay, probe every relay (a table). The work is in lib/probe/; this file parses the command line.
 */
import { readFileSync } from "node:fs";
import { MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { loadConfig } from "../config/load.ts";
import { chooseConfig, locateConfig } from "../config/locate.ts";
import { parseSource } from "../config/source.ts";
import type { ProbeReport } from "../probe/types.ts";
import { parseDuration } from "../config/duration.ts";
import { loadRelay } from "../probe/relay.ts";
import { renderProbe } from "../probe/render.ts";
import { exitStatus, probe } from "../probe/run.ts";
import { parseTarget } from "../probe/target.ts";
import { parseFlags } from "./args.ts";
import type { CliIo } from "./io.ts";
import { escapeLines, escapeText as e } from "../text/escape.ts";
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
  if (file !== undefined && values.relay === undefined) return await probeEveryRelay(file, { timeoutMs, caFile: values.ca, json: !!values.json }, io);
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

/**
 * `probe --config F` without HOST or --relay: every relay of the config, each probed as
 * `--relay NAME` would (lib/probe's `probe`, in parallel), summed up in a table; `--json` prints
 * the array of reports. Exit: the worst of the relays' statuses (69 unreachable > 1 problems > 0).
 */
async function probeEveryRelay(file: string, o: { timeoutMs: number; caFile?: string; json: boolean }, io: CliIo): Promise<number> {
  const names = relayNames(file);
  const relays = names.map((name) => loadRelay(file, name));
  const reports = await Promise.all(relays.map((relay) => probe({ host: relay.host, relay, caFile: o.caFile, timeoutMs: o.timeoutMs })));
  if (o.json) io.out(JSON.stringify(reports, null, 2) + "\n");
  else io.out(escapeLines(renderRelayTable(file, reports)));
  return Math.max(0, ...reports.map(exitStatus));
}

/** The relay names of the config, in the file's order (lint errors allowed, as for --relay). */
function relayNames(file: string): string[] {
  const loaded = loadConfig(file); // CONFIG_INVALID when unreadable
  const source = parseSource(readFileSync(file, "utf8"), file);
  const relays = (source.value as { relays?: unknown } | undefined)?.relays;
  const names = relays && typeof relays === "object" && !Array.isArray(relays) ? Object.keys(relays) : [];
  if (names.length === 0) throw new ConfigInvalidError(loaded.problems, file);
  return names;
}

/** RELAY, SERVER, VERDICT, DAYS LEFT (of the relay port's leaf certificate), then each problem with its fix. */
export function renderRelayTable(file: string, reports: ProbeReport[]): string {
  const rows = reports.map((r) => {
    const port = r.ports.find((p) => p.port === r.relay?.port) ?? r.ports[0];
    const closed = r.ports.every((p) => p.mode === "closed");
    const verdict = r.ok ? "ok" : closed ? `unreachable (${port?.error?.code ?? "CONNECT_FAILED"})` : `${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}: ${[...new Set(r.problems.map((f) => f.code))].join(", ")}`;
    const days = port?.tls?.chain[0]?.daysLeft;
    return [e(r.relay?.name ?? r.host), `${e(r.host)}:${port?.port ?? "?"}`, verdict, days === undefined ? "-" : String(days)];
  });
  const all = [["RELAY", "SERVER", "VERDICT", "DAYS LEFT"], ...rows];
  const widths = all[0].map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const lines = [`Probed every relay of ${e(file)}:`, "", ...all.map((r) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd())];
  const bad = reports.filter((r) => !r.ok);
  for (const r of bad) {
    lines.push("", `${e(r.relay?.name ?? r.host)}:`);
    for (const f of r.problems) lines.push(`  ${f.severity === "error" ? "ERROR" : "WARNING"} ${f.code}: ${e(f.message)}${f.fix ? ` Fix: ${e(f.fix)}` : ""}`);
  }
  if (bad.length) lines.push("", `Details of one relay: mailplan probe --config ${e(file)} --relay NAME`);
  return lines.join("\n") + "\n";
}
