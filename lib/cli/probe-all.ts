/**
 * `probe --config FILE` without `--relay`: every relay of the config probed at once (each on its
 * own configured port, compared with its configuration, exactly as `probe --config F --relay R`
 * does it), then one table: relay, server, verdict and the first problem with its fix.
 *
 * Invariants: one relay's failure (unreachable, invalid block, unreadable CA) is its own row and
 * never hides the others; every text from a server or the config is escaped (escapeLines) before
 * it reaches the terminal; the JSON carries each relay's full `probe --json` report.
 * Exit status: 0 when every relay is fine, 69 when none could be reached, else 1.
 */
import { readFileSync } from "node:fs";
import { MailplanError } from "../codes.ts";
import { parseDuration } from "../config/duration.ts";
import { parseSource } from "../config/source.ts";
import { exitStatus, loadRelay, probe } from "../probe/mod.ts";
import type { ProbeReport } from "../probe/mod.ts";
import type { CliIo } from "./io.ts";
import { escapeLines } from "../text/escape.ts";

/** One relay's outcome: its report, or the error that kept it from being probed. */
export interface RelayProbe {
  relay: string;
  server: string | null;
  exit: number;
  report: ProbeReport | null;
  error: { code: string; message: string; hint: string } | null;
}

/** The relay names of a config file, in file order (even when the config has lint errors). */
function relayNames(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new MailplanError("CONFIG_INVALID", `The config file ${file} cannot be read.`, "pass the path of a YAML config with --config");
  }
  const raw = parseSource(text, file).value as { relays?: unknown } | undefined;
  const relays = raw?.relays;
  const names = relays && typeof relays === "object" && !Array.isArray(relays) ? Object.keys(relays) : [];
  if (names.length === 0) throw new MailplanError("CONFIG_INVALID", `The config ${file} has no relays to probe.`, "add a relay under relays:, or probe a HOST[:PORT]");
  return names;
}

/**
 * Probes every relay of `file` in parallel.
 * @example const rows = await probeAllRelays("mail.yaml", { timeoutMs: 5000 });
 */
export async function probeAllRelays(file: string, o: { timeoutMs: number }): Promise<RelayProbe[]> {
  return await Promise.all(relayNames(file).map(async (name): Promise<RelayProbe> => {
    try {
      const relay = loadRelay(file, name);
      const report = await probe({ host: relay.host, relay, timeoutMs: o.timeoutMs });
      return { relay: name, server: `${relay.host}:${relay.port}`, exit: exitStatus(report), report, error: null };
    } catch (e) {
      if (!(e instanceof MailplanError)) throw e;
      return { relay: name, server: null, exit: e.exitCode, report: null, error: { code: e.code, message: e.message, hint: e.hint } };
    }
  }));
}

/** The exit status of the whole table. */
export function tableExit(rows: RelayProbe[]): number {
  if (rows.every((r) => r.exit === 0)) return 0;
  if (rows.every((r) => r.exit === 69)) return 69;
  return 1;
}

function verdict(r: RelayProbe): { result: string; detail: string } {
  if (r.error) return { result: r.error.code, detail: `${r.error.message}${r.error.hint ? ` Hint: ${r.error.hint}.` : ""}` };
  const report = r.report!;
  if (r.exit === 69) return { result: "unreachable", detail: report.problems[0]?.message ?? "no port answered" };
  if (report.ok) return { result: "ok", detail: report.ports.map((p) => `${p.port}: ${p.mode}${p.tls?.version ? ` ${p.tls.version}` : ""}`).join(", ") };
  const first = report.problems[0];
  const more = report.problems.length > 1 ? ` (+${report.problems.length - 1} more)` : "";
  return { result: `${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`, detail: `${first.message}${first.fix ? ` Fix: ${first.fix}` : ""}${more}` };
}

/** The human table, one row per relay, then how to see one relay in full. */
export function renderTable(rows: RelayProbe[], file: string): string {
  const cells = rows.map((r) => ({ relay: r.relay, server: r.server ?? "-", ...verdict(r) }));
  const w = (k: "relay" | "server" | "result", title: string) => Math.max(title.length, ...cells.map((c) => c[k].length));
  const [wr, ws, wv] = [w("relay", "RELAY"), w("server", "SERVER"), w("result", "RESULT")];
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(wr)}  ${b.padEnd(ws)}  ${c.padEnd(wv)}  ${d}`.trimEnd();
  const out = [line("RELAY", "SERVER", "RESULT", "DETAIL"), ...cells.map((c) => line(c.relay, c.server, c.result, c.detail))];
  const bad = rows.find((r) => r.exit !== 0);
  if (bad) out.push("", `Details of one relay: mailplan probe --config ${file} --relay ${bad.relay}`);
  return escapeLines(out.join("\n")) + "\n";
}

/** `--timeout` as `probe` reads it: 5 s by default, 100 ms to 10 min. */
function timeoutMs(value: string | undefined): number {
  if (value === undefined) return 5000;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 100 || ms > 600_000) {
    throw new MailplanError("USAGE", `--timeout "${value}" is not a duration from 100ms to 10m.`, "write it like 5s, 1500ms or 1m");
  }
  return ms;
}

/** `probe --config FILE [--json] [--timeout T]` without --relay: returns the exit status. */
export async function probeAllCommand(file: string, o: { json: boolean; timeout?: string }, io: CliIo): Promise<number> {
  const rows = await probeAllRelays(file, { timeoutMs: timeoutMs(o.timeout) });
  const status = tableExit(rows);
  io.out(o.json ? JSON.stringify({ probe: 1, ok: status === 0, config: file, relays: rows }, null, 2) + "\n" : renderTable(rows, file));
  return status;
}
