/**
 * Layers point one way (issue 10 §6) for the folders config, message and plan: a file imports
 * only from its own folder or from a lower layer
 * (codes < text < smtp, net, message, config < plan < engine, outbox, probe < demo < cli).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const lib = join(import.meta.dirname!, "..", "lib");
const RANK: Record<string, number> = {
  "codes.ts": 0, text: 1, smtp: 2, net: 2, message: 2, config: 2, plan: 3, engine: 4, outbox: 4, probe: 4, demo: 5, cli: 6,
};
const layer = (file: string) => relative(lib, file).split("/")[0];

for (const folder of ["config", "message", "plan"]) {
  test(`lib/${folder} imports only from itself or lower layers`, () => {
    const files = readdirSync(join(lib, folder), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length > 0);
    for (const f of files) {
      const path = join(lib, folder, f);
      const code = readFileSync(path, "utf8");
      for (const m of code.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/gm)) {
        const target = layer(resolve(dirname(path), m[1]));
        if (target === folder) continue;
        assert.ok(target in RANK, `${folder}/${f} imports ${m[1]} outside lib`);
        assert.ok(RANK[target] < RANK[folder], `${folder}/${f} imports ${m[1]}: ${target} is not below ${folder}`);
      }
    }
  });
}
