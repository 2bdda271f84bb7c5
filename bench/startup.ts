/**
 * Benchmark: process start-up to first output for `check` on the example config, under Bun and
 * Deno, against each runtime's own empty-program start in the same run (the ratio is mailplan's cost).
 *   bun run bench/startup.ts
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname!, "..");
const RUNS = 11;

function median(cmd: string, args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8" });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

const bin = (n: string) => join(root, "node_modules", ".bin", n);
console.log(`start-up to first output, median of ${RUNS} runs`);
for (const [name, empty, check] of [
  ["bun", ["-e", "console.log(1)"], ["run", "mod.ts", "check", "--config", "config/mail.yaml"]],
  ["deno", ["eval", "console.log(1)"], ["run", "-A", "mod.ts", "check", "--config", "config/mail.yaml"]],
] as const) {
  const base = median(bin(name), [...empty]);
  const ms = median(bin(name), [...check]);
  console.log(`  ${name.padEnd(5)} empty program ${base.toFixed(0).padStart(4)} ms   mailplan check ${ms.toFixed(0).padStart(4)} ms   ${(ms / base).toFixed(2)}×`);
}
