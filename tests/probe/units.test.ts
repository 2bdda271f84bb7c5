/** The pure parts of probe (targets, verdict texts, YAML scalars) and the command line's edges. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { probeCommand } from "../../lib/cli/probe.ts";
import { HELP } from "../../lib/cli/help.ts";
const PROBE_HELP = HELP.probe;
import { MailplanError } from "../../lib/codes.ts";
import { parseTarget } from "../../lib/probe/target.ts";
import { compareRelay } from "../../lib/probe/compare.ts";
import { portFindings } from "../../lib/probe/verdicts.ts";
import { loadRelay } from "../../lib/probe/relay.ts";
import { relayNameFor, scalar } from "../../lib/probe/yaml.ts";
import { probeHint } from "../../lib/probe/hint.ts";
import type { ConfiguredRelay, PortReport } from "../../lib/probe/types.ts";
import { assertAllHostileClosed } from "../support/hostile-server.ts";
import { probeJson, tempDir } from "./helpers.ts";

after(() => assertAllHostileClosed());

const io = () => {
  const o = { text: "", io: { out: (t: string) => (o.text += t), err: (t: string) => (o.text += t), env: {} } };
  return o;
};

function port587(over: Partial<PortReport> = {}): PortReport {
  return {
    port: 587,
    mode: "plaintext",
    detail: "SMTP greeting after 20 ms",
    error: null,
    greeting: { code: 220, text: "smtp.gmail.com ESMTP" },
    starttls: { offered: true, accepted: true },
    ehlo: { beforeTls: ["STARTTLS"], afterTls: ["AUTH PLAIN"], addedByTls: ["AUTH PLAIN"], removedByTls: ["STARTTLS"] },
    service: null,
    tls: null,
    ...over,
  };
}

const gmail: ConfiguredRelay = {
  name: "gmail", file: "mail.yaml", host: "smtp.gmail.com", port: 587, strategy: "implicit", strategyPortMismatch: true,
  helo: null, tls: "required", min_tls: "1.2", verify: true, ca: null, caPath: null, pin: [], server_name: null, auth: null,
};

describe("verdict texts", () => {
  test("the issue's example, word for word", () => {
    const [f] = compareRelay(gmail, port587(), [587]);
    assert.equal(f.code, "TLS_MODE_MISMATCH");
    assert.equal(
      `${f.message} ${f.fix}`,
      "Port 587 speaks plaintext SMTP and offers STARTTLS, but relay `gmail` says strategy: implicit. That is the 'wrong version number' error. Use strategy: starttls, or port 465.",
    );
  });

  test("a certificate expiring in less than 14 days is a warning with the date (for nightly monitoring)", () => {
    const leaf = {
      subject: "CN=mx", issuer: "CN=CA", subjectAltNames: ["DNS:mx"], validFrom: "2026-01-01T00:00:00.000Z", validTo: "2026-12-01T00:00:00.000Z",
      daysLeft: 5, selfSigned: false, fingerprint256: "AA", spkiPin: "sha256/x",
    };
    const report = port587({
      tls: {
        version: "TLSv1.3", cipher: "x", accepts: { "TLSv1.3": true, "TLSv1.2": true }, chain: [leaf], pin: "sha256/x",
        name: { checked: "mx", matches: true }, trust: { system: { trusted: true, reason: null }, ca: null }, chainProblem: null,
      },
    });
    const fs = portFindings({ report, analysis: null }, { caFile: null, relay: null, onlyPort: true, otherPortWorks: false });
    const f = fs.find((x) => x.code === "CERT_EXPIRES_SOON");
    assert.equal(f?.severity, "warning");
    assert.equal(f?.message, "The certificate CN=mx on port 587 expires in 5 days (2026-12-01).");
  });
});

test("send's hint: the exact probe command, only for TLS and mode errors", () => {
  assert.equal(probeHint("TLS_MODE_MISMATCH", "my config.yaml", "gmail"), "run: mailplan probe --config 'my config.yaml' --relay gmail  (explains the server's TLS and writes the relay for it)");
  assert.equal(probeHint("AUTH_FAILED", "mail.yaml", "gmail"), null);
});

describe("targets and YAML scalars", () => {
  test("HOST[:PORT] with IPv6 in brackets", () => {
    assert.deepEqual(parseTarget("[::1]:25"), { host: "::1", port: 25 });
    assert.deepEqual(parseTarget("[::1]"), { host: "::1", port: null });
    assert.deepEqual(parseTarget("::1"), { host: "::1", port: null });
    assert.deepEqual(parseTarget("smtp.example.com:587"), { host: "smtp.example.com", port: 587 });
    assert.deepEqual(parseTarget("127.0.0.1"), { host: "127.0.0.1", port: null });
    for (const bad of ["smtp://x", "x:0", "x:70000", "[zz]:1", "a b", ""]) {
      assert.throws(() => parseTarget(bad), (e: unknown) => e instanceof MailplanError && e.code === "USAGE", bad);
    }
  });

  test("scalars are quoted only when YAML would read them as something else", () => {
    assert.equal(scalar("127.0.0.1"), "127.0.0.1");
    assert.equal(scalar("::1"), '"::1"');
    assert.equal(scalar("1.5"), '"1.5"');
    assert.equal(scalar("yes"), '"yes"');
    assert.equal(scalar("sha256/ab+c/d="), "sha256/ab+c/d=");
    assert.equal(relayNameFor("::1"), "1");
    assert.equal(relayNameFor("Smtp.Example.com"), "smtp-example-com");
  });
});

describe("probe command line", () => {
  test("--help, and usage errors (64)", async () => {
    const h = io();
    assert.equal(await probeCommand(["--help"], h.io), 0);
    assert.equal(h.text, PROBE_HELP);
    assert.match(PROBE_HELP, /probe HOST\[:PORT\] \[--json\] \[--timeout 5s\]/);
    assert.match(PROBE_HELP, /probe \[--config FILE\] \[--relay NAME\] \[--json\] \[--timeout 5s\]/);
    const usage = (e: unknown) => e instanceof MailplanError && e.code === "USAGE" && e.exitCode === 64;
    await assert.rejects(probeCommand([], io().io), usage);
    await assert.rejects(probeCommand(["127.0.0.1:25", "--config", "x.yaml"], io().io), usage); // HOST with a config needs --relay
    await assert.rejects(probeCommand(["a", "b"], io().io), usage);
    await assert.rejects(probeCommand(["127.0.0.1:25", "--timeout", "soon"], io().io), usage);
    await assert.rejects(probeCommand(["127.0.0.1:25", "--ca", "/nonexistent/ca.pem"], io().io), usage);
  });

  test("--relay: unknown name (64, with a suggestion); a relay with lint errors still loads", () => {
    const dir = tempDir();
    const file = join(dir, "mail.yaml");
    writeFileSync(file, "version: 1\nrelays:\n  gmail: { host: smtp.gmail.com, port: 587, strategy: implicit }\nroutes:\n  - { name: all, via: [gmail] }\n");
    assert.throws(() => loadRelay(file, "gmial"), (e: unknown) => e instanceof MailplanError && e.code === "USAGE" && /did you mean "gmail"/.test(e.hint));
    const r = loadRelay(file, "gmail");
    assert.equal(r.strategy, "implicit");
    assert.equal(r.port, 587);
    assert.throws(() => loadRelay(join(dir, "missing.yaml"), "gmail"), (e: unknown) => e instanceof MailplanError && e.code === "CONFIG_INVALID");
  });

  test("nothing reachable: exit 69, the port is closed, CONNECT_FAILED explained (IPv4 and IPv6 literal)", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const { code, report } = await probeJson([`127.0.0.1:${port}`]);
    assert.equal(code, 69);
    assert.equal(report.ports[0].mode, "closed");
    assert.match(report.problems[0].message, /connection refused/);
    assert.equal(report.problems[0].code, "CONNECT_FAILED");
    assert.equal(report.suggestion, null);
    const v6 = await probeJson([`[::1]:${port}`]);
    assert.equal(v6.code, 69);
    assert.equal(v6.report.host, "::1");
  });

  test("no port: 465, 587 and 25 are probed", async () => {
    const { code, report } = await probeJson(["127.0.0.1"]);
    assert.deepEqual(report.ports.map((p) => p.port), [465, 587, 25]);
    assert.ok([0, 1, 69].includes(code));
  });
});
