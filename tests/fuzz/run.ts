/**
 * The long fuzz run: random seeds for N minutes against ReplyParser and SmtpSession.
 *
 *   bun run tests/fuzz/run.ts --minutes 10        (or: npm run fuzz -- --minutes 10)
 *   deno run -A tests/fuzz/run.ts --minutes 3
 *
 * Options: --minutes N (default 1, fractions allowed), --seed S (run seed; default random),
 * --keep-going (store every distinct finding, exit 1 at the end), --one SEED [--parser]
 * (run one input and print it). Prints inputs per second, total inputs and max RSS; on a
 * property violation stores a shrunk regression fixture in tests/fuzz/fixtures/<hash>.json and
 * exits 1.
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { genParserCase, genSessionCase, mixSeed, type ParserCase, type SessionCase } from "./generators.ts";
import {
  type Fixture,
  fixtureName,
  knownIssues,
  loadFixtures,
  runCase,
  shrink,
  toFixture,
  type Violation,
} from "./harness.ts";

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const g = globalThis as Record<string, unknown>;
const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const mib = (n: number) => (n / 1048576).toFixed(1);

/** Input `i` of a run: two session inputs for each parser input. */
function input(runSeed: number, i: number): SessionCase | ParserCase {
  const seed = mixSeed(runSeed, i);
  return i % 3 === 2 ? genParserCase(seed) : genSessionCase(seed);
}

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** Open lib/smtp bugs documented by fixtures: counted, not reported again. */
const knownFixtures = loadFixtures(fixtures).filter((x) => x.fixture.known);
const isKnown = knownIssues(knownFixtures);

function save(c: SessionCase | ParserCase, v: Violation): string {
  const same = (x: Violation) => x.property === v.property && !isKnown(x);
  const small = shrink(c, same);
  const after = runCase(small).find(same) ?? v;
  const fixture: Fixture = toFixture(small, after);
  const json = JSON.stringify(fixture, null, 1) + "\n";
  mkdirSync(fixtures, { recursive: true });
  const file = fixtures + fixtureName(fixture);
  writeFileSync(file, json);
  return file;
}

if (opt("--one") !== undefined) {
  const seed = Number(opt("--one")) >>> 0;
  const c = args.includes("--parser") ? genParserCase(seed) : genSessionCase(seed);
  const v = runCase(c);
  console.log(JSON.stringify(toFixture(c, v[0] ?? { property: "none", detail: "" }), null, 1));
  console.log(v.length ? v : "all properties hold");
  process.exit(v.length ? 1 : 0);
}

const minutes = Number(opt("--minutes") ?? "1");
if (!(minutes > 0)) {
  console.error("usage: run.ts --minutes N [--seed S] [--keep-going]");
  process.exit(2);
}
const runSeed = opt("--seed") !== undefined ? Number(opt("--seed")) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const keepGoing = args.includes("--keep-going");
const start = Date.now();
const stop = start + minutes * 60_000;
let total = 0;
let sessions = 0;
let parsers = 0;
let maxRss = process.memoryUsage().rss;
let maxHeap = process.memoryUsage().heapUsed;
let lastReport = start;
let knownHits = 0;
const seen = new Set<string>();
const stored: string[] = [];
console.log(
  `fuzz on ${runtime}: run seed ${runSeed}, ${minutes} min, ${knownFixtures.length} known open bug(s) skipped`,
);

const report = (now: number) => {
  const s = (now - start) / 1000;
  console.log(
    `[${s.toFixed(0).padStart(5)}s] ${total} inputs (${
      (total / s).toFixed(0)
    }/s; session ${sessions}, parser ${parsers})` +
      ` max RSS ${mib(maxRss)} MiB (heap ${
        mib(maxHeap)
      }), findings ${stored.length}, known-bug hits ${knownHits}`,
  );
};

for (let i = 0;; i++) {
  if ((i & 127) === 0) {
    const now = Date.now();
    const mem = process.memoryUsage();
    maxRss = Math.max(maxRss, mem.rss);
    maxHeap = Math.max(maxHeap, mem.heapUsed);
    if (now >= stop) break;
    if (now - lastReport >= 10_000) {
      lastReport = now;
      report(now);
    }
  }
  const c = input(runSeed, i);
  if ("chunks" in c) parsers++;
  else sessions++;
  total++;
  let violations: Violation[];
  try {
    violations = runCase(c);
  } catch (error) {
    violations = [{ property: "harness", detail: String(error instanceof Error ? error.stack : error) }];
  }
  const fresh = violations.filter((x) => !isKnown(x));
  if (fresh.length < violations.length) knownHits++;
  if (fresh.length === 0) continue;
  const v = fresh[0];
  const signature = `${v.property}:${v.detail.replace(/\d+/g, "#").slice(0, 80)}`;
  if (seen.has(signature)) continue;
  seen.add(signature);
  const file = save(c, v);
  stored.push(file);
  console.log(
    `FINDING ${v.property} (input ${i}, seed ${c.seed}, mutations ${
      c.mutations.join(",") || "none"
    }): ${v.detail}`,
  );
  console.log(`  stored ${file}`);
  if (!keepGoing) break;
}
maxRss = Math.max(maxRss, process.memoryUsage().rss);
report(Date.now());
console.log(
  `done on ${runtime}: ${total} inputs (${sessions} session, ${parsers} parser), run seed ${runSeed}, max RSS ${
    mib(maxRss)
  } MiB, ` +
    `${stored.length} finding(s)${stored.length ? ":\n  " + stored.join("\n  ") : ""}`,
);
process.exit(stored.length ? 1 : 0);
