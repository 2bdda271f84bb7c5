/**
 * The library as a user gets it: `npm pack`, `npm install ./mailplan-X.tgz` in another folder,
 * then the three example scripts (examples/library) copied there and run on Bun, Deno and Node
 * ≥ 20, each importing "mailplan" (the built dist/ with its .d.ts) and sending to the demo sink.
 * The script's JSON result and the message the sink stored are both checked.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateDemoPki } from "../../lib/demo/pki.ts";
import { startSink } from "../../lib/demo/sink.ts";
import { childEnv, installInProject, ok, packOnce, root, run } from "./support.ts";

const deno = join(root, "node_modules", ".bin", "deno");
// Set up at module load, not in a hook: packing (tsc) and installing can take over a minute on a
// busy machine, and Bun applies its per-hook timeout to hooks whatever their options say.
const project = await installInProject(await packOnce());
for (const f of ["bun.ts", "deno.ts", "node.mjs"]) copyFileSync(join(root, "examples", "library", f), join(project, f));

/** Runs an example and checks its result and what the sink stored. */
async function sends(cmd: string, args: string[], greeting: string) {
  const r = await run(cmd, args, { cwd: project, env: childEnv() });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trimEnd().split("\n");
  const stored = lines.pop()!.replace(/^stored: /, "");
  const result = JSON.parse(lines.join("\n"));
  assert.equal(result.ok, true);
  assert.deepEqual(result.accepted, ["ops@example.com"]);
  assert.equal(result.response.code, 250);
  assert.equal(result.tls.version, "TLSv1.3");
  const message = readFileSync(stored, "utf8");
  assert.match(message, new RegExp(`Subject: ${greeting}\r\n`));
  assert.match(message, /filename=report\.csv/);
  assert.ok(message.includes(btoa("host,ok\nweb1,yes\n")));
  assert.equal(message.match(/Message-ID: (<[^>]+>)/)?.[1], result.messageId);
}

describe("the packed library, installed in another folder", () => {
  test("Bun: examples/library/bun.ts sends through the demo sink", async () => {
    await sends(join(project, "node_modules", ".bin", "bun"), ["bun.ts"], "Hello from Bun");
  });

  test("Deno: examples/library/deno.ts imports the npm package and sends", async () => {
    await sends(deno, ["run", "-A", "deno.ts"], "Hello from Deno");
  });

  test("Deno type-checks the script against the package's .d.ts", async () => {
    await ok(deno, ["check", "deno.ts"], { cwd: project, env: childEnv() });
  });

  test("Node: examples/library/node.mjs sends with the node:tls adapter", async () => {
    await sends("node", ["node.mjs"], "Hello from Node");
  });

  test("Deno with network access only (no read, write or sys permission): config text, secret from env, outbox off", async () => {
    const sink = await startSink({ user: "edge", password: "pw-edge", requireAuth: true, pki: generateDemoPki() });
    try {
      writeFileSync(join(project, "edge.ts"), EDGE_SCRIPT);
      const r = await run(deno, ["run", "--no-prompt", "--allow-net=127.0.0.1", "--allow-env=LOG_TOKENS,LOG_STREAM", "edge.ts", String(sink.ports.implicit), sink.pin], { cwd: project, env: childEnv() });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const result = JSON.parse(r.stdout);
      assert.equal(result.ok, true, JSON.stringify(result.error));
      const stored = readFileSync(sink.received()[0].path, "utf8");
      assert.match(stored, /Subject: from the edge\r\n/);
      assert.ok(stored.includes(btoa("in memory")));
    } finally {
      await sink.close();
    }
  });
});

/**
 * What an edge function does: everything in memory. (`--allow-env=LOG_TOKENS,LOG_STREAM` is for
 * the yaml package, which reads those two debug switches; `helo` spares --allow-sys=hostname.)
 */
const EDGE_SCRIPT = `import { createMailer } from "mailplan";
const [port, pin] = Deno.args;
const mailer = createMailer({
  config: \`version: 1
relays:
  sink:
    host: 127.0.0.1
    port: \${port}
    strategy: implicit
    helo: edge.example
    security: { verify: false, pin: "\${pin}", server_name: localhost }
    auth: { user: edge, password: { env: SMTP_PASSWORD } }
routes: [{ name: all, via: [sink] }]
\`,
  env: { SMTP_PASSWORD: "pw-edge" },
  outbox: false,
});
const r = await mailer.send({ from: "edge@example.com", to: "ops@example.com", subject: "from the edge", text: "only sockets",
  attachments: [{ filename: "a.txt", content: "in memory" }] });
await mailer.close();
console.log(JSON.stringify(r));
`;
