/**
 * Layers point one way (issue 10 §6; the order is stated in lib/README.md). Reads the imports of
 * every file in lib/ and of mod.ts — static `import`/`export … from` (type-only ones included:
 * they couple the layers just the same) and dynamic `import("…")` — and fails on
 * - an import against the order below (a lower layer importing a higher one),
 * - an import between two different folders of the same layer,
 * - a cycle between files, or between folders,
 * - a file in a folder the order does not name (add the folder to LAYERS and to lib/README.md).
 *
 * KNOWN lists today's violations, each with its reason; they are being removed. The test fails
 * on any violation not in the list AND on a listed one that no longer occurs, so the list only
 * shrinks: when a fix lands, delete its entry.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Lower may never import higher; the same number = the same layer (no imports across folders). */
const LAYERS: Record<string, number> = {
  codes: 0, // lib/codes.ts: the one table of error codes
  text: 1, // output escaping
  permission: 1, // lib/permission.ts: naming a runtime permission that was refused
  smtp: 2,
  net: 2,
  message: 2,
  config: 2,
  plan: 3,
  engine: 4,
  outbox: 4,
  probe: 4,
  demo: 5,
  cli: 6,
  api: 7, // the library (createMailer): the CLI's send pipeline behind a typed API
  "mod.ts": 8,
};

/** Violations that exist today, each with the reason; the test fails when one disappears. */
const KNOWN: Record<string, string> = {};

const root = fileURLToPath(new URL("../", import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Removes comments (module headers and `@example`s quote imports that are not imports). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

const IMPORT =
  /(?:^|[;\s}])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The module specifiers a source file imports, in order (relative ones and packages alike). */
export function importsOf(src: string): string[] {
  return [...stripComments(src).matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
}

/** The layer unit of a path relative to the root: `codes`, `mod.ts`, or the folder under lib/. */
function unitOf(rel: string): string {
  if (rel === "mod.ts") return "mod.ts";
  if (rel === "lib/codes.ts") return "codes";
  if (rel === "lib/permission.ts") return "permission";
  const m = /^lib\/([^/]+)\//.exec(rel);
  return m ? m[1] : rel;
}

/** Strongly connected components with more than one member (Tarjan), each sorted. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>(), stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index), low.set(v, index++), stack.push(v), on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) visit(w), low.set(v, Math.min(low.get(v)!, low.get(w)!));
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do (w = stack.pop()!, on.delete(w), c.push(w)); while (w !== v);
      if (c.length > 1 || graph.get(v)?.has(v)) out.push(c.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Every violation of the rules above in the given files (paths relative to the root → source). */
export function violations(sources: Map<string, string>): string[] {
  const found: string[] = [];
  const files = new Map<string, Set<string>>();
  const folders = new Map<string, Set<string>>();
  for (const [from, src] of sources) {
    const fu = unitOf(from);
    if (!(fu in LAYERS)) found.push(`unknown layer: ${from} (name its folder in LAYERS and lib/README.md)`);
    files.set(from, files.get(from) ?? new Set());
    folders.set(fu, folders.get(fu) ?? new Set());
    for (const spec of importsOf(src)) {
      if (!spec.startsWith(".")) continue;
      const to = relative(root, resolve(root, dirname(from), spec)).split("\\").join("/");
      const tu = unitOf(to);
      files.get(from)!.add(to);
      if (fu === tu) continue;
      folders.get(fu)!.add(tu);
      if (!(fu in LAYERS) || !(tu in LAYERS)) continue;
      if (LAYERS[fu] < LAYERS[tu]) found.push(`upward: ${from} -> ${to}`);
      else if (LAYERS[fu] === LAYERS[tu]) found.push(`same layer: ${from} -> ${to}`);
    }
  }
  for (const c of cycles(files)) found.push(`file cycle: ${c.join(", ")}`);
  for (const c of cycles(folders)) found.push(`folder cycle: ${c.join(", ")}`);
  return [...new Set(found)].sort();
}

function projectSources(): Map<string, string> {
  const paths = [...tsFiles(join(root, "lib")), join(root, "mod.ts")];
  return new Map(paths.map((p) => [relative(root, p).split("\\").join("/"), readFileSync(p, "utf8")]));
}

test("lib/ imports follow the layer order, with no cycle between files or folders (beyond the known list)", () => {
  const found = violations(projectSources());
  const unexpected = found.filter((v) => !(v in KNOWN));
  const fixed = Object.keys(KNOWN).filter((k) => !found.includes(k));
  assert.deepEqual(unexpected, [], "new layering violations: fix them (lib/README.md says where each kind of code goes)");
  assert.deepEqual(fixed, [], "these known violations are gone: delete them from KNOWN in tests/layers.test.ts");
});

test("the import reader sees static, type-only, re-export, multi-line and dynamic imports, not comments", () => {
  const src = `/** @example import { x } from "./doc.ts" */
import { a } from "./a.ts";
import type { B } from "../b/b.ts";
import {
  type C,
  d,
} from "./c.ts";
import "./side.ts";
export { e } from "./e.ts";
export * from "./f.ts";
export type { G } from "./g.ts";
const h = await import("./h.ts"); // import("./comment.ts")
import * as node from "node:fs";
const s = "// not a comment"; import { i } from "./i.ts";`;
  assert.deepEqual(importsOf(src), ["./a.ts", "../b/b.ts", "./c.ts", "./side.ts", "./e.ts", "./f.ts", "./g.ts", "./h.ts", "node:fs", "./i.ts"]);
});

test("the rules catch an upward import, a same-layer import, file and folder cycles, an unknown folder", () => {
  const v = violations(new Map([
    ["lib/smtp/a.ts", `import { x } from "../cli/io.ts";`],
    ["lib/cli/io.ts", `import { y } from "../smtp/a.ts";`],
    ["lib/engine/e.ts", `import type { T } from "../outbox/o.ts";`],
    ["lib/outbox/o.ts", `export const o = 1;`],
    ["lib/net/p.ts", `import "./q.ts";`],
    ["lib/net/q.ts", `import "./p.ts";`],
    ["lib/newfolder/n.ts", `export {};`],
  ]));
  assert.deepEqual(v, [
    "file cycle: lib/cli/io.ts, lib/smtp/a.ts",
    "file cycle: lib/net/p.ts, lib/net/q.ts",
    "folder cycle: cli, smtp",
    "same layer: lib/engine/e.ts -> lib/outbox/o.ts",
    "unknown layer: lib/newfolder/n.ts (name its folder in LAYERS and lib/README.md)",
    "upward: lib/smtp/a.ts -> lib/cli/io.ts",
  ]);
});
