/**
 * Helpers of the probe tests: run the command in-process, turn a suggested relay block into a
 * config and `check` it, send a message through it with the engine.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { probeCommand } from "../../lib/cli/probe.ts";
import type { ProbeReport } from "../../lib/probe/types.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import type { TransactionResult } from "../../lib/engine/types.ts";
import { Transcript } from "../../lib/engine/transcript.ts";
import { type Scenario, startHostile } from "../support/hostile-server.ts";

/** Runs `probe ARGS --json` (plus a short timeout) and returns the exit status and the report. */
export async function probeJson(args: string[]): Promise<{ code: number; report: ProbeReport; err: string }> {
  let out = "";
  let err = "";
  const code = await probeCommand([...args, "--json", "--timeout", "2s"], { out: (t) => (out += t), err: (t) => (err += t), env: {} });
  return { code, report: JSON.parse(out) as ProbeReport, err };
}

/** Runs `probe ARGS` for a person and returns the exit status and the text. */
export async function probeText(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await probeCommand([...args, "--timeout", "2s"], { out: (t) => (out += t), err: (t) => (out += t), env: {} });
  return { code, out };
}

/** A new temporary folder. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "mailplan-probe-"));
}

/** The suggested block as a whole config in `dir` (one catch-all route), checked: no error, no warning. */
export function configFromSuggestion(report: ProbeReport, dir = tempDir()): { file: string; text: string } {
  assert.ok(report.suggestion, "a relay block is suggested");
  const text = `version: 1\n${report.suggestion.yaml}routes:\n  - { name: all, via: [${report.suggestion.relay}] }\n`;
  const file = join(dir, "mail.yaml");
  writeFileSync(file, text);
  const loaded = parseConfig(text, file, { references: true });
  assert.deepEqual(loaded.problems.map((p) => `${p.severity}: ${p.path.join(".")}: ${p.message}`), [], text);
  return { file, text };
}

/** Sends one small message through the config's catch-all route. */
export async function sendWith(config: { file: string; text: string }): Promise<TransactionResult> {
  const loaded = parseConfig(config.text, config.file);
  assert.ok(loaded.config);
  const tx = planEnvelope(loaded.config, { from: "probe@example.test", to: ["inbox@example.test"] }).transactions[0];
  const id = `probe-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const body = `From: probe@example.test\r\nTo: inbox@example.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.test>\r\n\r\nsent with the YAML probe suggested\r\n`;
  const transcript = new Transcript();
  const result = await deliver(tx, messageFromBytes(new TextEncoder().encode(body)), { baseDir: dirname(config.file), transcript });
  assert.equal(result.ok, true, `${JSON.stringify(result.error)}\n${transcript}`);
  return result;
}

/** The finding with `code`, or a failed assertion listing what there is. */
export function finding(report: ProbeReport, code: string) {
  const all = [...report.problems, ...report.notes];
  const f = all.find((x) => x.code === code);
  assert.ok(f, `expected a ${code} finding; got ${JSON.stringify(all.map((x) => `${x.code}: ${x.message}`), null, 2)}`);
  return f;
}

/** The codes of the problems (not notes). */
export const problemCodes = (r: ProbeReport) => r.problems.map((p) => p.code);

/** Runs `fn` against a hostile server started for `scenario`, and closes the server afterwards. */
export async function withServer<T>(scenario: Scenario, fn: (port: number) => Promise<T>): Promise<T> {
  const srv = await startHostile(scenario);
  try {
    return await fn(srv.port);
  } finally {
    await srv.close();
  }
}
