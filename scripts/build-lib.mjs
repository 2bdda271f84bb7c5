#!/usr/bin/env node
/**
 * `npm run build:lib`: the library as the npm package ships it — dist/mod.js and dist/lib/**.js
 * with their .d.ts, one output file per source file (TypeScript's tsc with
 * rewriteRelativeImportExtensions, so `./x.ts` imports become `./x.js`). Transpile only: types
 * are checked by `deno check`. The previous output is removed first (never the binaries).
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const p of ["dist/lib", "dist/mod.js", "dist/mod.d.ts"]) rmSync(join(root, p), { recursive: true, force: true });
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  console.error("build:lib: tsc failed (see above).");
  process.exit(r.status ?? 1);
}
console.log("build:lib: dist/mod.js and dist/lib/ written.");
