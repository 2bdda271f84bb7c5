/**
 * Threat rows X1–X3 (docs/threats.md, "Certificate names"): a whole `send` through the engine
 * against the hostile server presenting a certificate from the hostile-name table
 * (tests/net/name-cases.ts), on every adapter of this runtime. A negative row must end in
 * CERT_HOSTNAME_MISMATCH with nothing sent after the handshake; a positive control must deliver.
 */
import { after, describe, test } from "node:test";
import { isIP } from "node:net";
import { availableAdapters } from "../../lib/net/detect.ts";
import { makeNamedLeaf, makePki } from "../support/certs.ts";
import { assertAllHostileClosed } from "../support/hostile-server.ts";
import { NAME_CASES } from "../net/name-cases.ts";
import { AUTH, type Row, runRow } from "./harness.ts";

const CA = makePki().root.cert.path;

/** A STARTTLS (and, for X1, implicit) row per table case. */
const rows: Row[] = NAME_CASES.filter((c) => c.threat || c.covers).flatMap((c) => {
  const leaf = makeNamedLeaf(c.sans);
  const serverName = isIP(c.name) ? "" : `, server_name: "${c.name}"`;
  const expect: Row["expect"] = c.covers
    ? { ok: true, failClosed: false }
    : { code: "CERT_HOSTNAME_MISMATCH", phase: "tls", temporary: false, failClosed: true, silentAfterTls: true };
  const id = c.threat ?? "X-control";
  const mk = (mode: "starttls" | "implicit"): Row => ({
    id: `${id}/${c.id}/${mode}`,
    title: `${c.title} (${mode}, ${c.covers ? "delivers" : "CERT_HOSTNAME_MISMATCH"})`,
    server: { mode: mode === "implicit" ? "implicit" : "plain", tls: { key: leaf.key.pem, cert: leaf.chain.pem } },
    relay: `strategy: ${mode}, security: { tls: required, ca: ${CA}${serverName} }, ${AUTH}`,
    expect,
  });
  return c.threat === "X1" || c.threat === "X2" ? [mk("starttls"), mk("implicit")] : [mk("starttls")];
});

after(() => assertAllHostileClosed());

for (const adapter of availableAdapters()) {
  describe(`certificate-name threats [${adapter}]`, () => {
    for (const row of rows) test(`${row.id}: ${row.title}`, async () => void await runRow(row, adapter));
  });
}
