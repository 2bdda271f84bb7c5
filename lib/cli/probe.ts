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

/** `mailplan probe --help`. */
export const PROBE_HELP = `Usage: mailplan probe [HOST[:PORT]] [--config FILE --relay NAME] [--json] [--timeout 5s]
                     [--ca FILE] [--server-name NAME]

Connects to a mail server and explains, in plain words, what it does and what is wrong:
for each port (the one given, the relay's, or 465, 587 and 25) whether it speaks plaintext SMTP
or waits for TLS (decided by waiting briefly for a greeting, then trying a TLS handshake), the
greeting and EHLO capabilities before and after STARTTLS, the TLS versions it accepts, its
certificate chain (names, issuer, dates, days left, trust, missing intermediate) and the SPKI pin
to paste into security.pin. Each problem comes with its fix, and a ready relay block is printed.

With --config and --relay, the host, port, ca, server_name and pins come from the relay, and
every contradiction between the relay and the server is flagged (e.g. strategy: implicit on a
port that speaks plaintext: the 'wrong version number' error).

Options:
  HOST[:PORT]          host name or address; IPv6 as [::1]:25 (default: the relay's host)
  --config FILE        the YAML config (with --relay)
  --relay NAME         the relay to compare with the server
  --ca FILE            judge the certificate against this PEM CA file too (the relay's ca wins)
  --server-name NAME   name the certificate must cover (default: the relay's server_name, else HOST)
  --timeout DURATION   deadline of each step: connect, reply, TLS handshake (default 5s)
  --json               print the report as JSON (the shape is in lib/probe/README.md)

Exit status: 0 no problem found, 1 problems found (each is listed with its fix),
64 bad command line, 69 nothing reachable, 78 config invalid.
`;

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
    io.out(PROBE_HELP);
    return 0;
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
  io.out(values.json ? JSON.stringify(report, null, 2) + "\n" : renderProbe(report));
  return exitStatus(report);
}
