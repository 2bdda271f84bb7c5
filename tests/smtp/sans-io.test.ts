import { it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../lib/smtp/", import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]
  );

it("lib/smtp is sans-IO: no runtime globals, sockets, timers or Buffer; only node:crypto imported", () => {
  const forbidden = /\b(Bun|Deno|process|Buffer|setTimeout|setInterval|fetch|globalThis)\b|node:(?!crypto")/;
  for (const f of files(root).filter((f) => f.endsWith(".ts"))) {
    const code = readFileSync(f, "utf8").replace(/\/\*\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    const m = forbidden.exec(code);
    assert.equal(m, null, `${f}: ${m?.[0]}`);
  }
});
