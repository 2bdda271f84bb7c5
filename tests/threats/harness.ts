/**
 * Runs one catalogue row (docs/threats.md) against the hostile server with one adapter:
 * the relay policy as a YAML snippet → parseConfig → planEnvelope → deliver → assertions.
 */
import assert from "node:assert/strict";
import process from "node:process";
import type { AdapterName } from "../../lib/net/conn.ts";
import type { Config } from "../../lib/config/schema.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import type { TransactionPlan } from "../../lib/plan/types.ts";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { Transcript } from "../../lib/engine/transcript.ts";
import { renderSendResult } from "../../lib/cli/render-result.ts";
import type { TransactionResult } from "../../lib/engine/types.ts";
import type { ErrorCode, Phase } from "../../lib/smtp/errors.ts";
import { containsCredential, type HostileServer, type Scenario, startHostile } from "../support/hostile-server.ts";

/** The hostile server's default credentials; the relay reads the password from PW_ENV. */
export const USER = "me";
export const PASSWORD = "s3cret-pass";
export const PW_ENV = "MAILPLAN_THREATS_PW";
process.env[PW_ENV] = PASSWORD;

/** `auth:` of a relay that logs in as the hostile server's default user. */
export const AUTH = `auth: { user: ${USER}, password: { env: ${PW_ENV} } }`;

/** Small deadlines for every relay (a row may override them in its snippet). */
export const DEFAULT_TIMEOUTS = "{ connect: 2s, greeting: 2s, tls: 2s, command: 2s, data: 2s }";

/** The message every row sends unless it brings its own. */
export const MESSAGE = new TextEncoder().encode(
  "From: sender@example.com\r\nTo: rcpt@example.com\r\nSubject: threat catalogue\r\n" +
    "Message-ID: <threats@example.com>\r\n\r\nHello.\r\n",
);

/** A config with one relay per entry (`host: 127.0.0.1, port: PORT, <snippet>`) and a route per relay. */
export function makeConfig(relays: Record<string, { port: number; snippet: string }>): Config {
  const names = Object.keys(relays);
  const yaml = [
    "version: 1",
    "defaults:",
    `  timeouts: ${DEFAULT_TIMEOUTS}`,
    "  retry: { attempts: 1 }",
    "relays:",
    ...names.map((n) => {
      const { port, snippet } = relays[n];
      const host = /(^|[{,]\s*)host:/.test(snippet) ? "" : "host: 127.0.0.1, ";
      return `  ${n}: { ${host}port: ${port}, ${snippet} }`;
    }),
    "routes:",
    ...names.map((n) => `  - { name: ${n}, via: [${n}] }`),
    "",
  ].join("\n");
  const loaded = parseConfig(yaml, "/tmp/threats.yaml");
  assert.ok(loaded.config, `config does not load:\n${yaml}\n${JSON.stringify(loaded.problems, null, 2)}`);
  return loaded.config;
}

/** A transaction through relay `name` of a config built by {@link makeConfig}. */
export function plan(config: Config, name: string, envelope?: { from: string; to: string[] }): TransactionPlan {
  const env = envelope ?? { from: "sender@example.com", to: ["rcpt@example.com"] };
  return planEnvelope(config, env, { route: name }).transactions[0];
}

/** What a row expects. */
export interface Expect {
  /** Default false. */
  ok?: boolean;
  /** Exactly this code (a list only where threats.md itself allows alternatives). */
  code?: ErrorCode | ErrorCode[];
  phase?: Phase;
  temporary?: boolean;
  messageIncludes?: RegExp;
  hintIncludes?: RegExp;
  /** No AUTH line, no MAIL/RCPT, no DATA/body byte, no credential reached the server (any phase). */
  failClosed: boolean;
  /** Not one byte after the TLS handshake (contract: security failures close without even QUIT). */
  silentAfterTls?: boolean;
  /** Connections the server saw (default 1; null: not checked). */
  connections?: number | null;
  extra?: (srv: HostileServer, result: TransactionResult, adapter: AdapterName) => void;
}

/** One row of the catalogue. */
export interface Row {
  id: string;
  title: string;
  server: Scenario;
  /** The relay's policy: fields after `host: 127.0.0.1, port: PORT` in a YAML flow mapping. */
  relay: string;
  expect: Expect;
  /** Adapters that cannot honour the policy: they must refuse with TLS_HANDSHAKE_FAILED before any TLS byte. */
  refusedBy?: AdapterName[];
  envelope?: { from: string; to: string[] };
  message?: Uint8Array;
  /** Silence before the port is tested for implicit TLS (M2); default: longer than any row's timeouts. */
  greetingSilenceMs?: number;
}

/** What a run produced, for reports. */
export interface Outcome {
  result: TransactionResult;
  /** Elapsed time, for the optional report only (MAILPLAN_THREATS_REPORT=1): never asserted. */
  ms: number;
  transcript: Transcript;
}

/** Sends one transaction, returning the result and its transcript (bounds are proven by codes and counts, never by elapsed time). */
export async function send(tx: TransactionPlan, adapter: AdapterName, message: Uint8Array = MESSAGE, greetingSilenceMs = 60_000): Promise<Outcome> {
  const transcript = new Transcript();
  const t0 = Date.now();
  const result = await deliver(tx, messageFromBytes(message), { baseDir: "/tmp", adapter, transcript, greetingSilenceMs });
  return { result, ms: Date.now() - t0, transcript };
}

/** Waits until every connection the server accepted is closed (recordings complete). */
export async function settle(srv: HostileServer): Promise<void> {
  await srv.waitFor(() => srv.connections.every((c) => c.isClosed), 3000, "client closed every connection")
    .catch(() => {});
}

/** Runs a row with one adapter and checks it; returns the outcome for the summary. */
export async function runRow(row: Row, adapter: AdapterName): Promise<Outcome> {
  const srv = await startHostile({ maxLifetimeMs: 20_000, ...row.server });
  try {
    const tx = plan(makeConfig({ r: { port: srv.port, snippet: row.relay } }), "r", row.envelope);
    const out = await send(tx, adapter, row.message, row.greetingSilenceMs);
    await settle(srv);
    const refused = row.refusedBy?.includes(adapter) ?? false;
    check(row, refused ? refusalExpect : row.expect, srv, out, adapter);
    return out;
  } finally {
    await srv.close();
  }
}

/** Deno native cannot pin, enforce TLS 1.3 or present a client certificate after STARTTLS: it says so up front. */
const refusalExpect: Expect = {
  code: "TLS_HANDSHAKE_FAILED",
  failClosed: true,
  hintIncludes: /node-tls/,
  connections: null, // implicit: refused before TCP connect; STARTTLS: after the 220
  extra(srv) {
    for (const c of srv.connections) {
      assert.equal(c.tls, null, "refused before the handshake: no TLS session");
      assert.equal(c.afterTls.bytes.length, 0, "refused before the handshake: no TLS byte");
    }
  },
};

function check(row: Row, e: Expect, srv: HostileServer, out: Outcome, adapter: AdapterName): void {
  const { result, transcript } = out;
  const why = `${row.id} [${adapter}] ${JSON.stringify(result.error ?? { ok: result.ok })}\n${transcript}`;
  const wantOk = e.ok ?? false;
  assert.equal(result.ok, wantOk, `ok should be ${wantOk}: ${why}`);
  if (wantOk) assert.equal(result.error, undefined, why);
  if (e.code !== undefined) {
    const codes = [e.code].flat();
    assert.ok(result.error && codes.includes(result.error.code), `code should be ${codes.join(" or ")}: ${why}`);
  }
  if (e.phase !== undefined) assert.equal(result.error?.phase, e.phase, `phase: ${why}`);
  if (e.temporary !== undefined) assert.equal(result.error?.temporary, e.temporary, `temporary: ${why}`);
  if (e.messageIncludes) assert.match(result.error?.message ?? "", e.messageIncludes, `message: ${why}`);
  if (e.hintIncludes) assert.match(result.error?.hint ?? "", e.hintIncludes, `hint: ${why}`);
  if (e.failClosed) {
    assert.deepEqual(srv.failClosedViolations({ secret: PASSWORD }), [], `fail closed: ${why}`);
  }
  // Every row, whatever its outcome: the password appears nowhere a user or a log can see it
  // (raw, base64, or inside a PLAIN/LOGIN blob) — the transcript, the JSON result, the human output.
  const visible = [transcript.toString(), JSON.stringify(result), renderSendResult(result)].join("\n");
  assert.ok(!containsCredential(visible, PASSWORD), `the password leaked into the output: ${why}`);
  if (e.silentAfterTls) {
    assert.equal(srv.received.afterTls.bytes.length, 0, `bytes after the handshake: ${JSON.stringify(srv.received.afterTls.lines)} ${why}`);
  }
  if (e.connections !== null) assert.equal(srv.connectionCount, e.connections ?? 1, `connections: ${why}`);
  e.extra?.(srv, result, adapter);
}
