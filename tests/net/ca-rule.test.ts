/**
 * The `security.ca` rule (issue 10 §2, README `.security.ca`): `ca` ADDS trust anchors to the
 * system store, on every adapter. Proven with a child process whose "system store" is made to
 * hold the test root (NODE_EXTRA_CA_CERTS for Bun and node:tls, DENO_CERT for Deno): with `ca`
 * set to an unrelated CA, the server's chain to the system-trusted root must still be accepted.
 * Without the extra root, the same connection is CERT_UNTRUSTED (the test can fail).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { availableAdapters, runtime } from "../../lib/net/detect.ts";
import { makePki } from "../support/certs.ts";
import { startServer, type TestServer } from "./server.ts";

const pki = makePki();
const child = fileURLToPath(new URL("./fixtures/ca-child.ts", import.meta.url));

/** Runs the child with this runtime; resolves with its one output line. */
function run(adapter: string, port: number, caFile: string | null, systemRoot: string | null): Promise<string> {
  const exe = runtime() === "deno" ? (globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath() : process.execPath;
  const args = runtime() === "deno" ? ["run", "-A", child] : [child];
  const env: Record<string, string> = { ...process.env as Record<string, string> };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.DENO_CERT;
  if (systemRoot) Object.assign(env, { NODE_EXTRA_CA_CERTS: systemRoot, DENO_CERT: systemRoot });
  return new Promise((resolve, reject) =>
    execFile(exe, [...args, adapter, String(port), ...(caFile ? [caFile] : [])], { env }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim().split("\n").pop() ?? "")
    )
  );
}

describe("security.ca adds to the system trust store (every adapter)", () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ mode: "implicit", tls: { key: pki.leaf.key.pem, cert: pki.leaf.chain.pem } });
  });
  after(() => srv.close());
  for (const adapter of availableAdapters()) {
    test(`${adapter}: a system-trusted chain stays trusted when ca names another CA`, async () => {
      const [control, withCa, withoutCa, onlyCa] = await Promise.all([
        run(adapter, srv.port, pki.otherCa.cert.path, null),
        run(adapter, srv.port, pki.otherCa.cert.path, pki.root.cert.path),
        run(adapter, srv.port, null, pki.root.cert.path),
        run(adapter, srv.port, pki.root.cert.path, null),
      ]);
      assert.equal(control, "CERT_UNTRUSTED", "control: the test root is not trusted by default");
      assert.equal(withoutCa, "ok", "control: the environment puts the test root in the system store");
      assert.equal(onlyCa, "ok", "ca alone is trusted");
      assert.equal(withCa, "ok", "ca must not replace the system store");
    });
  }
});
