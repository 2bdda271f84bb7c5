/** Helpers for the outbox command-line tests: a config per test with its own outbox, the CLI in-process. */
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../lib/cli/main.ts";
import type { HostileServer } from "../support/hostile-server.ts";

/** A config whose one relay points at `port` (plain, loopback), with its own outbox folder. */
export function setup(port: number, extra = "", dir = mkdtempSync(join(tmpdir(), "mailplan-outbox-t-"))) {
  const config = join(dir, "mail.yaml");
  writeConfig(config, port, extra);
  return { dir, config, outbox: join(dir, "outbox") };
}

export function writeConfig(config: string, port: number, extra = "") {
  writeFileSync(config, `version: 1
outbox: ./outbox
${extra}relays: { r: { host: 127.0.0.1, port: ${port}, strategy: plain, security: { tls: none }, timeouts: { greeting: 5s, command: 5s }, retry: { attempts: 1 } } }
routes: [{ name: all, via: [r] }]
`);
}

/** Runs the CLI in-process with `env` as its whole environment. */
export async function cliIn(env: Record<string, string | undefined>, ...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err };
}
export const cli = (...argv: string[]) => cliIn({}, ...argv);

export const send = (config: string, to: string, ...extra: string[]) =>
  cli("send", "--config", config, "--from", "a@sender.example", "--to", to, "--subject", `to ${to}`, "--text", "keep me", "--json", ...extra);

/** Recipients of every transaction a server got a body for. */
export function deliveredTo(s: HostileServer): string[] {
  return s.connections.flatMap((c) => c.bodies.length ? c.commands.filter((k) => k.verb === "RCPT").map((k) => k.line.replace(/^RCPT TO:<|>.*$/g, "")) : []);
}

/** Files left in a folder that a failed write must never leave. */
export function temps(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(".tmp"));
  } catch {
    return [];
  }
}
