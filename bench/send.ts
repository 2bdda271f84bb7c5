/**
 * Benchmark: one message per new connection against the loopback sink, over STARTTLS and implicit
 * TLS, and how much of it a reused connection would still pay. Round trips are counted from the
 * transcript (each turn from client to server); "reusable part" is MAIL through the reply to the
 * final dot — what a second message on an open connection costs. Prints numbers, no verdicts.
 *   bun run bench/send.ts     deno run -A bench/send.ts
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSink } from "../lib/demo/sink.ts";
import { parseConfig } from "../lib/config/load.ts";
import { planEnvelope } from "../lib/plan/compile.ts";
import { deliver } from "../lib/engine/deliver.ts";
import { messageFromBytes } from "../lib/engine/message-source.ts";
import { Transcript, type TranscriptLine } from "../lib/engine/transcript.ts";
import { availableAdapters } from "../lib/net/detect.ts";

const N = 40;
const dir = mkdtempSync(join(tmpdir(), "mailplan-bench-"));
const sink = await startSink({ outDir: join(dir, "received"), user: "u", password: "p", requireAuth: true });
writeFileSync(join(dir, "ca.pem"), sink.ca);
writeFileSync(join(dir, "pw"), "p");
const config = parseConfig(`version: 1
defaults: { security: { ca: ./ca.pem, server_name: localhost } }
relays:
  starttls: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls, auth: { user: u, password: { file: ./pw } } }
  implicit: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: implicit, auth: { user: u, password: { file: ./pw } } }
routes: [{ name: s, match: { to: "*@s.example" }, via: [starttls] }, { name: i, via: [implicit] }]
`, join(dir, "mail.yaml")).config!;
const message = messageFromBytes(new TextEncoder().encode("Subject: bench\r\n\r\n" + "x".repeat(2000) + "\r\n"));

/** Client→server turns: a sent line (or the body) that follows a received line (or starts the conversation). */
function roundTrips(lines: TranscriptLine[], from = 0, to = lines.length): number {
  let n = 0, last = "";
  for (const l of lines.slice(from, to)) {
    const sent = l.dir === "->" || l.dir === "~>" || (l.dir === "**" && l.text.startsWith("message body sent"));
    const side = sent ? "c" : l.dir === "<-" || l.dir === "<~" ? "s" : "";
    if (side === "c" && last !== "c") n++;
    if (side) last = side;
  }
  return n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runtime = "Bun" in globalThis ? "bun" : "deno";
console.log(`send benchmark on ${runtime}: ${N} messages each, new connection per message, loopback sink`);
for (const adapter of availableAdapters()) {
  for (const [route, to] of [["s", "a@s.example"], ["i", "a@i.example"]] as const) {
    const tx = planEnvelope(config, { from: "b@bench.example", to: [to] }).transactions[0];
    const total: number[] = [], reusable: number[] = [];
    let rtAll = 0, rtReuse = 0;
    for (let i = 0; i < N; i++) {
      const t = new Transcript();
      const r = await deliver(tx, message, { baseDir: dir, adapter, transcript: t });
      if (!r.ok) throw new Error(JSON.stringify(r.error));
      const mail = t.lines.findIndex((l) => /MAIL FROM:/.test(l.text));
      const dot = t.lines.findIndex((l) => /^250 .*queued/.test(l.text));
      total.push(t.lines[t.lines.length - 1].at);
      reusable.push(t.lines[dot].at - t.lines[mail].at);
      rtAll = roundTrips(t.lines) + 1; // + the TCP connect
      rtReuse = roundTrips(t.lines, mail, dot + 1);
    }
    const strategy = route === "s" ? "starttls" : "implicit";
    console.log(`  ${adapter.padEnd(8)} ${strategy.padEnd(8)} new connection ${median(total).toFixed(2).padStart(6)} ms, ${rtAll} round trips (+ TLS handshake)` +
      ` | reusable part ${median(reusable).toFixed(2).padStart(5)} ms, ${rtReuse} round trips | ratio ${(median(total) / median(reusable)).toFixed(1)}×`);
  }
}
await sink.close();
