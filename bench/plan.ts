/**
 * Benchmark: `plan` on a generated 1000-route, 200-relay config, phase by phase, after start-up.
 * Prints milliseconds (median of runs) and each phase's ratio to the baseline in the same run:
 * `yaml.parse` of the same text, the floor any YAML-based tool pays.
 *   bun run bench/plan.ts        deno run -A bench/plan.ts
 */
import { parse, stringify } from "yaml";
import { parseConfig } from "../lib/config/load.ts";
import { compileConfig, planEnvelope } from "../lib/plan/compile.ts";

const RELAYS = 200, ROUTES = 1000, RUNS = 15;

function generate(): string {
  const relays: Record<string, unknown> = {};
  for (let i = 0; i < RELAYS; i++) {
    relays[`relay-${i}`] = {
      host: `smtp${i}.example.com`,
      port: [587, 465, 25, 2525][i % 4],
      ...(i % 5 === 0 ? { security: { min_tls: "1.3", server_name: `mx${i}.example.com` } } : {}),
      ...(i % 3 === 0 ? { auth: { user: `user${i}`, password: { env: `PW_${i}` } } } : {}),
      ...(i % 7 === 0 ? { timeouts: { connect: "5s", data: "2m" } } : {}),
    };
  }
  const routes = Array.from({ length: ROUTES }, (_, i) => ({
    name: `route-${i}`,
    match: { from: `*@app${i % 50}.example.com`, to: [`*@d${i}.example`, `*@*.d${i}.example`] },
    via: [`relay-${i % RELAYS}`, `relay-${(i + 1) % RELAYS}`],
  }));
  routes.push({ name: "default", via: ["relay-0"] } as never);
  return stringify({ version: 1, defaults: { security: { tls: "required" } }, relays, routes });
}

function median(f: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

const text = generate();
const loaded = parseConfig(text, "bench.yaml");
if (!loaded.config) throw new Error("generated config is invalid");
const config = loaded.config;
const envelope = { from: "ops@app7.example.com", to: Array.from({ length: 50 }, (_, i) => `u${i}@d${i * 19}.example`) };

const baseline = median(() => parse(text));
const phases: [string, number][] = [
  ["load (parse + validate + lint)", median(() => parseConfig(text, "bench.yaml"))],
  ["compileConfig (all routes)", median(() => compileConfig(config))],
  ["planEnvelope (50 recipients)", median(() => planEnvelope(config, envelope))],
  ["JSON of all routes", median(() => JSON.stringify(compileConfig(config), null, 2))],
];
const total = median(() => JSON.stringify(compileConfig(parseConfig(text, "bench.yaml").config!), null, 2));
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
console.log(`plan benchmark on ${runtime}: ${ROUTES + 1} routes, ${RELAYS} relays, ${text.split("\n").length} YAML lines, median of ${RUNS}`);
console.log(`  baseline yaml.parse                 ${baseline.toFixed(1).padStart(7)} ms   1.00×`);
for (const [name, ms] of phases) console.log(`  ${name.padEnd(35)} ${ms.toFixed(1).padStart(7)} ms   ${(ms / baseline).toFixed(2)}×`);
console.log(`  whole plan --json after start-up    ${total.toFixed(1).padStart(7)} ms   ${(total / baseline).toFixed(2)}×`);
