/**
 * `demo`: the main job end to end with no outside server. Starts the loopback sink (STARTTLS and
 * implicit-TLS ports, fresh CA), writes a config for it, shows its plan, sends one message whose
 * two recipients take one route each (one per strategy), and shows what happened.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSink } from "../demo/sink.ts";
import { loadConfig } from "../config/load.ts";
import { compileConfig } from "../plan/compile.ts";
import { composeMessage } from "../message/compose.ts";
import { Transcript } from "../engine/transcript.ts";
import { parseFlags } from "./args.ts";
import type { CliIo } from "./io.ts";
import { escapeLines } from "../text/escape.ts";
import { renderConfigPlan } from "./render-plan.ts";
import { renderSendResult } from "./render-result.ts";
import { runSend } from "./send-run.ts";
import { exitStatus } from "./send.ts";
import { ConfigInvalidError } from "../config/config-error.ts";

/** The demo config: one relay per strategy, a route per recipient domain, the sink's CA, auth over TLS only. */
export function demoConfig(ports: { starttls: number; implicit: number }): string {
  return `# yaml-language-server: $schema=https://mailplan.invalid/mail.schema.json
# Written by \`mailplan demo\` for its loopback sink. Try: mailplan plan --config THIS_FILE
version: 1
defaults:
  security: { tls: required, min_tls: "1.2", ca: ./demo-ca.pem, server_name: localhost }
  timeouts: { connect: 2s, greeting: 5s, tls: 5s, command: 5s, data: 10s }
relays:
  sink-starttls:                 # plaintext greeting, then STARTTLS, then AUTH
    host: 127.0.0.1
    port: ${ports.starttls}
    strategy: starttls
    auth: { user: demo, password: { file: ./demo-password } }
  sink-implicit:                 # TLS from the first byte
    host: 127.0.0.1
    port: ${ports.implicit}
    strategy: implicit
    auth: { user: demo, password: { file: ./demo-password } }
routes:
  - name: starttls
    match: { to: "*@starttls.demo.example" }
    via: [sink-starttls]
  - name: implicit
    match: { to: "*@implicit.demo.example" }
    via: [sink-implicit]
`;
}

/** Runs the demo; exit status 0 when both messages arrived. */
export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("demo", args, { json: { type: "boolean" } });
  const dir = mkdtempSync(join(tmpdir(), "mailplan-demo-"));
  const password = crypto.randomUUID();
  const sink = await startSink({ outDir: join(dir, "received"), user: "demo", password, requireAuth: true });
  try {
    writeFileSync(join(dir, "demo-ca.pem"), sink.ca);
    writeFileSync(join(dir, "demo-password"), password + "\n", { mode: 0o600 });
    const configFile = join(dir, "mail.yaml");
    writeFileSync(configFile, demoConfig(sink.ports));
    const loaded = loadConfig(configFile, { references: true });
    if (!loaded.config) throw new ConfigInvalidError(loaded.problems, configFile);
    const say = values.json ? () => {} : (t: string) => io.out(escapeLines(t));
    say(`mailplan demo: a loopback SMTP sink is listening on 127.0.0.1:${sink.ports.starttls} (STARTTLS) and 127.0.0.1:${sink.ports.implicit} (implicit TLS).\n`);
    say(`Its config is ${configFile}\n\n`);
    say(renderConfigPlan(compileConfig(loaded.config), configFile) + "\n");
    const message = await composeMessage({
      from: "mailplan demo <demo@mailplan.example>",
      to: ["alice@starttls.demo.example", "bob@implicit.demo.example"],
      subject: "mailplan demo ✉ one message, two strategies",
      text: "Hello from mailplan.\n\nAlice's copy went through STARTTLS, Bob's through implicit TLS.\nBoth were verified against the demo CA before any password or message byte was sent.\n",
    });
    const transcript = new Transcript();
    const result = await runSend({
      config: loaded.config,
      baseDir: loaded.baseDir,
      envelope: message.envelope,
      message: { size: message.size, has8bit: message.has8bit, needsSmtpUtf8: message.smtpUtf8, messageId: message.messageId, open: message.stream },
      transcript,
      mode: { kind: "direct" },
    });
    const received = sink.received();
    if (values.json) {
      io.out(JSON.stringify({ ...result, demo: { config: configFile, received: received.map((m) => ({ path: m.path, port: m.port, rcptTo: m.rcptTo, tls: m.tls })) } }, null, 2) + "\n");
    } else {
      say("Sending one message to alice@starttls.demo.example and bob@implicit.demo.example:\n\n");
      say(transcript.toString().split("\n").filter((l) => !/^<[-~] 250-/.test(l)).join("\n") + "\n");
      say(renderSendResult(result) + "\n");
      for (const m of received) say(`received on the ${m.port} port (${m.tls.version ?? "TLS"}) for ${m.rcptTo.join(", ")}: ${m.path}\n`);
    }
    return exitStatus(result);
  } finally {
    await sink.close();
  }
}
