// Quick fuzz run (fixed seeds, a few seconds): ReplyParser and SmtpSession against generated and
// mutated server byte streams, any segmentation; then every stored regression fixture. The
// properties are in harness.ts; the long run is `bun run tests/fuzz/run.ts --minutes N`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { genParserCase, genSessionCase, type ParserCase, type SessionCase } from "./generators.ts";
import { fromFixture, knownIssues, loadFixtures, runCase, type Violation } from "./harness.ts";

const fixtures = loadFixtures(fileURLToPath(new URL("./fixtures/", import.meta.url)));
/** Violations of open lib/smtp bugs (fixtures with `known`) are left to those fixtures' todo tests. */
const isKnown = knownIssues(fixtures);

/** Runs `n` seeds from `base`; fails with the first few violations and the seeds that reproduce them. */
function sweep(n: number, base: number, gen: (seed: number) => SessionCase | ParserCase): void {
  const found: string[] = [];
  for (let i = 0; i < n && found.length < 5; i++) {
    const c = gen(base + i);
    const v: Violation[] = runCase(c).filter((x) => !isKnown(x));
    for (const x of v.slice(0, 2)) {
      found.push(`seed ${c.seed} [${c.mutations.join(",") || "unmutated"}] ${x.property}: ${x.detail}`);
    }
  }
  assert.deepEqual(
    found,
    [],
    `reproduce with: bun run tests/fuzz/run.ts --one SEED${"\n"}${found.join("\n")}`,
  );
}

describe("fuzz: ReplyParser", () => {
  it("valid, mutated and noisy reply streams, any segmentation: same replies as the reference, typed errors, bounded", () => {
    sweep(4000, 10_000, genParserCase);
  });
});

describe("fuzz: SmtpSession", () => {
  it("valid conversations (random capabilities, policies, AUTH, pipelining) end exactly as the model says", () => {
    sweep(1500, 20_000, (s) => genSessionCase(s, false));
  });

  it("mutated server streams: no throw, no success unless accepted, TLS policy kept, bounded, always ends", () => {
    sweep(5000, 30_000, (s) => genSessionCase(s, true));
  });
});

describe("fuzz: regression fixtures", () => {
  it("fixtures load", () => {
    for (const { file, fixture } of fixtures) {
      assert.ok(fixture.kind === "session" || fixture.kind === "parser", file);
    }
  });
  for (const { file, fixture } of fixtures) {
    const name = `${file} (${fixture.kind}, ${fixture.property})`;
    const check = () => {
      const v = runCase(fromFixture(fixture));
      assert.deepEqual(v, [], `${file}: ${fixture.detail}`);
    };
    // A fixture for an open lib/smtp bug (field `known`) is a todo until the fix lands.
    if (fixture.known) it(name, { todo: fixture.known }, check);
    else it(name, check);
  }
});
