/**
 * `outbox list [--failed] | flush [ID…] | show ID | retry ID | drop ID`: mail not delivered yet.
 * Every subcommand finds the config the same way (lib/config/locate.ts: --config, else
 * $MAILPLAN_CONFIG, else the default locations) and uses that config's `outbox:` folder, and says
 * which config and folder it used. `flush` sends each entry along that config's plan (an entry
 * never chooses the config) through the outbox's one write-ahead rule (lib/outbox sendEntry),
 * entry by entry: a bad entry is reported with its id and reason and the others still go.
 * Everything printed that came from an entry or a server goes through safeText.
 */
import { MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { loadConfig } from "../config/load.ts";
import { describeConfig, type LocatedConfig, locateConfig } from "../config/locate.ts";
import type { Config } from "../config/schema.ts";
import { suggestion } from "../config/suggest.ts";
import { deliver } from "../engine/deliver.ts";
import { Transcript } from "../engine/transcript.ts";
import type { MessageSource } from "../engine/types.ts";
import {
  ageMs,
  DEFAULT_MAX_AGE,
  drop,
  dropFailed,
  failedDir,
  flushExitStatus,
  type FlushOutcome,
  flushOutbox,
  list,
  listFailed,
  type OutboxEntry,
  outboxDir,
  read,
  readFailed,
  retryFailed,
} from "../outbox/mod.ts";
import { parseFlags } from "./args.ts";
import { type CliIo, safeText } from "./io.ts";
import { adapterFlag } from "./send.ts";

const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
const SUBCOMMANDS = ["list", "flush", "show", "retry", "drop"];

/** The config (if any) and the outbox folder these flags mean. */
interface Where {
  located: LocatedConfig;
  config: Config | null;
  baseDir: string | null;
  dir: string;
}

function where(flag: string | undefined, io: CliIo): Where {
  const located = locateConfig(flag, io.env);
  if (!located.found) return { located, config: null, baseDir: null, dir: outboxDir(undefined, undefined, io.env) };
  const loaded = loadConfig(located.path);
  if (!loaded.config) throw new ConfigInvalidError(loaded.problems, located.path);
  return { located, config: loaded.config, baseDir: loaded.baseDir, dir: outboxDir(loaded.config.outbox, loaded.baseDir, io.env) };
}

/** One line saying which config and folder were used. */
function header(w: Where, io: CliIo): string {
  const folder = w.located.found ? "its outbox:" : io.env.MAILPLAN_OUTBOX ? "$MAILPLAN_OUTBOX" : "the default outbox";
  const config = w.located.found ? `config ${describeConfig(w.located)}` : `no config (looked for ${w.located.tried.join(", ")})`;
  return `${config}; outbox ${w.dir} (${folder})`;
}

function configJson(w: Where) {
  return w.located.found ? { path: w.located.path, rule: w.located.rule } : { path: null, tried: w.located.tried };
}

/** "3m", "5h", "2d 4h": how long ago `iso` was. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)}m` : ""}`;
  return `${Math.floor(s / 86400)}d${s % 86400 >= 3600 ? ` ${Math.floor((s % 86400) / 3600)}h` : ""}`;
}

function summary(e: OutboxEntry) {
  const last = e.attempts.at(-1);
  return {
    id: e.id, created: e.created, age: age(e.created), from: e.envelope.from, subject: e.subject ?? null, pending: e.pending,
    done: e.done.map((d) => d.address), rejected: e.rejected.map((r) => ({ address: r.address, code: r.code, text: r.text })),
    attempts: e.attempts.length, lastError: last?.error ?? e.reason, nextAttempt: e.nextAttempt, interrupted: e.inflight !== null,
    messageId: e.messageId, size: e.size, ...(e.failure ? { failure: e.failure } : {}),
  };
}

function entryLine(e: OutboxEntry): string {
  const s = summary(e);
  const subject = s.subject === null ? "(no subject)" : JSON.stringify(s.subject);
  const last = e.failure ? `failed: ${e.failure.code} ${e.failure.message}` : `last: ${s.lastError ? `${s.lastError.code} ${s.lastError.message}` : "none"}`;
  return safeText(`${s.id}  ${s.age} old  from ${s.from} to ${s.pending.join(", ")}  ${subject}  ${s.attempts} attempt${s.attempts === 1 ? "" : "s"}, ${last}${s.interrupted ? `  (cut off after the final dot: may have arrived)` : ""}`) + "\n";
}

async function listCommand(rest: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("outbox list", rest, { config: { type: "string" }, json: { type: "boolean" }, failed: { type: "boolean" } });
  const w = where(values.config, io);
  const { entries, problems } = values.failed ? await listFailed(w.dir) : await list(w.dir);
  const failedCount = values.failed ? entries.length : (await listFailed(w.dir).catch(() => ({ entries: [] }))).entries.length;
  if (values.json) {
    io.out(json({ config: configJson(w), dir: values.failed ? failedDir(w.dir) : w.dir, entries: entries.map(summary), problems, failed: failedCount }));
  } else {
    io.err(header(w, io) + "\n");
    const what = values.failed ? "failed message" : "message";
    io.out(`${entries.length} ${what}${entries.length === 1 ? "" : "s"} in ${safeText(values.failed ? failedDir(w.dir) : w.dir)}\n`);
    for (const e of entries) io.out(entryLine(e));
    for (const p of problems) io.out(safeText(`${p.id}: ${p.kind === "incomplete" ? "incomplete" : `CORRUPT (${p.kind})`}: ${p.detail}`) + "\n");
    if (!values.failed && failedCount > 0) io.out(`${failedCount} failed message${failedCount === 1 ? "" : "s"} (never retried): mailplan outbox list --failed\n`);
  }
  if (problems.some((p) => p.kind !== "incomplete")) return 65;
  return failedCount > 0 ? 69 : 0;
}

async function flushCommand(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("outbox flush", rest, {
    config: { type: "string" }, json: { type: "boolean" }, "resend-unknown": { type: "boolean" }, due: { type: "boolean" }, net: { type: "string" },
  }, Infinity);
  const adapter = adapterFlag(values.net);
  const w = where(values.config, io);
  if (!w.located.found || !w.config) {
    throw new MailplanError("CONFIG_INVALID", `outbox flush needs a config to send with, and none was found (looked for ${w.located.tried.join(", ")}).`, "give --config FILE, or set $MAILPLAN_CONFIG");
  }
  const maxAgeText = w.config.outbox_max_age ?? DEFAULT_MAX_AGE;
  const baseDir = w.baseDir!;
  const outcomes = await flushOutbox(w.dir, {
    config: w.config,
    configFile: w.located.path,
    deliver: (tx, message, hooks) => deliver(tx, message as MessageSource, { baseDir, adapter, transcript: new Transcript(), beforeDot: hooks.beforeDot }),
    resendUnknown: values["resend-unknown"] ?? false,
    due: values.due ?? false,
    ids: positionals.length ? positionals : undefined,
    maxAgeMs: ageMs(maxAgeText)!,
    maxAgeText,
  });
  for (const id of positionals) {
    if (!outcomes.some((o) => o.id === id)) throw new MailplanError("USAGE", `There is no outbox entry ${JSON.stringify(id)} in ${w.dir}.`, "`mailplan outbox list` shows the entries");
  }
  const status = flushExitStatus(outcomes);
  if (values.json) io.out(json({ config: configJson(w), dir: w.dir, ok: status === 0, outcomes }));
  else {
    io.err(header(w, io) + "\n");
    io.out(`${outcomes.filter((o) => o.status === "delivered").length} of ${outcomes.length} delivered from ${safeText(w.dir)}\n`);
    for (const o of outcomes) io.out(outcomeLine(o));
  }
  return status;
}

function outcomeLine(o: FlushOutcome): string {
  const status = o.status === "failed" ? "FAILED, moved to the failed folder (never retried; `mailplan outbox retry` moves it back)" : o.status === "corrupt" ? "CORRUPT (not sent)" : o.status;
  const lines = [`${o.id}: ${status}${o.pending.length && o.status !== "delivered" ? ` (still pending: ${o.pending.join(", ")})` : ""}${o.error ? ` — ${o.error.code}: ${o.error.message}` : ""}`];
  for (const n of o.notes) lines.push(`  note: ${n}`);
  if (o.warning) lines.push(`  warning: outbox: ${o.warning}`);
  return lines.map(safeText).join("\n") + "\n";
}

async function showCommand(rest: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("outbox show", rest, { config: { type: "string" }, json: { type: "boolean" } }, 1);
  const id = positionals[0];
  if (!id) throw new MailplanError("USAGE", "outbox show needs the id of an entry.", "`mailplan outbox list` shows them");
  const w = where(values.config, io);
  let entry: OutboxEntry;
  let failed = false;
  try {
    entry = await read(w.dir, id);
  } catch (e) {
    if (!(e instanceof MailplanError && e.code === "USAGE" && !/not an outbox id/.test(e.message))) throw e;
    entry = await readFailed(w.dir, id).catch(() => {
      throw e;
    });
    failed = true;
  }
  const { sha256: _h, bytes: _b, ...shown } = entry;
  if (values.json) {
    io.out(json({ config: configJson(w), dir: failed ? failedDir(w.dir) : w.dir, failed, entry: shown }));
    return 0;
  }
  io.err(header(w, io) + "\n");
  const lines = [
    `${entry.id}${failed ? "  FAILED (in the failed folder; `mailplan outbox retry` moves it back)" : ""}`,
    `  queued:    ${entry.created} (${age(entry.created)} ago)${entry.config ? ` with config ${entry.config}` : ""}`,
    `  subject:   ${entry.subject ?? "(none)"}`,
    `  from:      ${entry.envelope.from}`,
    `  to:        ${entry.envelope.recipients.join(", ")}`,
    `  pending:   ${entry.pending.join(", ") || "(none)"}`,
    ...(entry.done.length ? [`  delivered: ${entry.done.map((d) => d.address).join(", ")}`] : []),
    ...entry.rejected.map((r) => `  refused:   ${r.address} (${r.code} ${r.text})`),
    `  size:      ${entry.size} bytes${entry.messageId ? `, Message-ID ${entry.messageId}` : ""}`,
    `  next try:  ${failed ? "never" : entry.nextAttempt}`,
    ...(entry.inflight ? [`  cut off:   a send was cut off after its final dot at ${entry.inflight.at} (relay ${entry.inflight.relay}): it may have arrived`] : []),
    ...(entry.failure ? [`  failed:    ${entry.failure.code}: ${entry.failure.message}`] : []),
    `  attempts:  ${entry.attempts.length}`,
    ...entry.attempts.map((a) => `    ${a.at} ${a.relay ?? "-"}: ${a.error ? `${a.error.code}: ${a.error.message}` : "ok"}${a.accepted.length ? ` (accepted ${a.accepted.join(", ")})` : ""}`),
    `  last error: ${(entry.attempts.at(-1)?.error ?? entry.reason).code}: ${(entry.attempts.at(-1)?.error ?? entry.reason).message}`,
  ];
  io.out(lines.map(safeText).join("\n") + "\n");
  return 0;
}

/** `outbox retry|drop ID [--config FILE]`: the id, and the outbox (its header printed on stderr). */
function entryCommandArgs(command: "retry" | "drop", rest: string[], io: CliIo, missing: string, hint: string): { id: string; w: Where } {
  const { values, positionals } = parseFlags(`outbox ${command}`, rest, { config: { type: "string" } }, 1);
  const id = positionals[0];
  if (!id) throw new MailplanError("USAGE", missing, hint);
  const w = where(values.config, io);
  io.err(header(w, io) + "\n");
  return { id, w };
}

async function retryCommand(rest: string[], io: CliIo): Promise<number> {
  const { id, w } = entryCommandArgs("retry", rest, io, "outbox retry needs the id of a failed entry.", "`mailplan outbox list --failed` shows them");
  const entry = await retryFailed(w.dir, id);
  io.out(safeText(`moved ${id} back to the outbox (from ${entry.envelope.from} to ${entry.pending.join(", ")}); the next \`mailplan outbox flush\` sends it`) + "\n");
  return 0;
}

async function dropCommand(rest: string[], io: CliIo): Promise<number> {
  const { id, w } = entryCommandArgs("drop", rest, io, "outbox drop needs the id of an entry.", "`mailplan outbox list` shows them");
  let entry: OutboxEntry | null;
  try {
    entry = await drop(w.dir, id);
  } catch (e) {
    if (!(e instanceof MailplanError && e.code === "USAGE" && !/not an outbox id/.test(e.message))) throw e;
    const dead = await readFailed(w.dir, id).catch(() => null);
    if (!dead) throw e;
    entry = await dropFailed(w.dir, id);
  }
  io.out(safeText(entry ? `dropped ${id} (from ${entry.envelope.from} to ${entry.pending.join(", ")})` : `dropped ${id} (its state was unreadable)`) + "\n");
  return 0;
}

/** `outbox …`: returns the exit status. */
export async function outboxCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "list") return await listCommand(rest, io);
  if (sub === "flush") return await flushCommand(rest, io);
  if (sub === "show") return await showCommand(rest, io);
  if (sub === "retry") return await retryCommand(rest, io);
  if (sub === "drop") return await dropCommand(rest, io);
  throw new MailplanError(
    "USAGE",
    sub ? `Unknown outbox command "${safeText(sub)}".` : "outbox needs a command: list, flush, show ID, retry ID or drop ID.",
    sub ? suggestion(sub, SUBCOMMANDS) || "use list, flush, show ID, retry ID or drop ID" : "for example: mailplan outbox list",
  );
}
