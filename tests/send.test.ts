/** `send` and `demo` as users run them: flags, message building, raw messages, JSON result, transcript, exit statuses. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { Buffer } from "node:buffer";
import { existsSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runCli } from "../lib/cli/main.ts";
import { openOutputFile } from "../lib/cli/output-file.ts";
import { renderSendResult } from "../lib/cli/render-result.ts";
import type { TransactionResult } from "../lib/engine/types.ts";
import { type Sink, startSink } from "../lib/demo/sink.ts";

/** Where sends of this file keep undelivered mail: never the user's real outbox. */
const testOutbox = mkdtempSync(join(tmpdir(), "mailplan-test-outbox-"));

const root = join(import.meta.dirname!, "..");
const dir = mkdtempSync(join(tmpdir(), "mailplan-send-test-"));
let sink: Sink;
let config: string;

before(async () => {
  sink = await startSink({ outDir: join(dir, "received"), user: "u", password: "pw-for-send-tests", requireAuth: true });
  writeFileSync(join(dir, "ca.pem"), sink.ca);
  writeFileSync(join(dir, "pw"), "pw-for-send-tests\n");
  config = join(dir, "mail.yaml");
  writeFileSync(config, `version: 1
defaults: { security: { ca: ./ca.pem, server_name: localhost }, timeouts: { greeting: 3s, command: 3s } }
relays:
  st: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls, auth: { user: u, password: { file: ./pw } } }
  im: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: implicit, auth: { user: u, password: { file: ./pw } } }
routes:
  - { name: one, match: { to: "*@one.example" }, via: [st] }
  - { name: two, match: { to: "*@two.example" }, via: [im] }
`);
});
after(async () => await sink?.close());

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: { MAILPLAN_OUTBOX: testOutbox } });
  return { code, out, err };
}
const last = () => sink.received().at(-1)!;

describe("send", () => {
  test("--subject/--text builds a message and delivers it; --json is the contract's result", async () => {
    const r = await cli("send", "--config", config, "--from", "Ops <ops@sender.example>", "--to", "a@one.example", "--subject", "Grüße", "--text", "hello\n.dot line\n", "--json");
    assert.equal(r.code, 0, r.out + r.err);
    const result = JSON.parse(r.out);
    assert.deepEqual(Object.keys(result), ["ok", "route", "relay", "server", "tls", "accepted", "rejected", "response", "messageId", "attempts"]);
    assert.equal(result.ok, true);
    assert.deepEqual([result.route, result.relay, result.server.strategy], ["one", "st", "starttls"]);
    assert.match(result.tls.version, /^TLSv1\.[23]$/);
    assert.deepEqual(result.accepted, ["a@one.example"]);
    assert.equal(result.response.code, 250);
    const eml = readFileSync(last().path, "utf8");
    assert.match(eml, /^Subject: =\?utf-8\?[BQ]\?/im);
    assert.match(eml, /\r\n\.dot line\r\n/);
    assert.ok(eml.includes(`Message-ID: ${result.messageId}`));
    assert.equal(last().authUser, "u");
  });

  test("--html-file and --attach build multipart/mixed with an alternative part and a base64 attachment", async () => {
    writeFileSync(join(dir, "body.html"), "<p>Hello <b>there</b></p>\n");
    const attachment = new Uint8Array(Array.from({ length: 300 }, (_, i) => i % 256));
    writeFileSync(join(dir, "report.bin"), attachment);
    const r = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "a@one.example", "--subject", "multipart", "--text", "plain body", "--html-file", join(dir, "body.html"), "--attach", join(dir, "report.bin"), "--json");
    assert.equal(r.code, 0, r.out);
    const eml = readFileSync(last().path, "latin1");
    assert.match(eml, /^Content-Type: multipart\/mixed; boundary="?([^"\r\n]+)"?\r$/m);
    assert.match(eml, /Content-Type: multipart\/alternative;/);
    assert.match(eml, /Content-Type: text\/html; charset=utf-8/);
    assert.match(eml, /filename="?report\.bin"?/);
    const b64 = /Content-Transfer-Encoding: base64\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9+\/=\r\n]+)/.exec(eml)![1].replace(/\r\n/g, "");
    assert.deepEqual(new Uint8Array(Buffer.from(b64, "base64")), attachment);
  });

  test("--message sends the file unchanged but for line endings", async () => {
    const raw = "From: a@sender.example\nTo: b@two.example\nSubject: raw\nMessage-ID: <raw-1@sender.example>\n\nline\n.\n..\nend";
    writeFileSync(join(dir, "m.eml"), raw);
    const r = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "b@two.example", "--message", join(dir, "m.eml"), "--json");
    assert.equal(r.code, 0, r.out);
    assert.equal(JSON.parse(r.out).messageId, "<raw-1@sender.example>");
    assert.equal(readFileSync(last().path, "utf8"), raw.replace(/\n/g, "\r\n") + "\r\n");
    assert.equal(last().port, "implicit");
  });

  test("recipients of two routes: two transactions, top-level ok only when both are", async () => {
    const r = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@one.example,y@two.example", "--subject", "s", "--text", "t", "--json");
    assert.equal(r.code, 0, r.out);
    const result = JSON.parse(r.out);
    assert.deepEqual(result.transactions.map((t: { route: string; accepted: string[] }) => [t.route, t.accepted]), [["one", ["x@one.example"]], ["two", ["y@two.example"]]]);
    assert.deepEqual(result.accepted, ["x@one.example", "y@two.example"]);
  });

  test("--transcript writes the conversation with the password redacted", async () => {
    const file = join(dir, "transcript.txt");
    const r = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@one.example", "--subject", "s", "--text", "t", "--transcript", file);
    assert.equal(r.code, 0, r.out + r.err);
    const text = readFileSync(file, "utf8");
    assert.match(text, /^-> STARTTLS$/m);
    assert.match(text, /^~> AUTH PLAIN \*\*\*$/m);
    assert.doesNotMatch(text, /pw-for-send-tests|cHctZm9yLXNlbmQtdGVzdHM/);
    assert.match(r.out, /^sent via route one, relay st \(127\.0\.0\.1:\d+, starttls\), TLSv1\.[23]/);
  });

  test("failures before connecting: NO_ROUTE 78, MESSAGE_INVALID 65, USAGE 64", async () => {
    const noRoute = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@nowhere.example", "--subject", "s", "--text", "t", "--json");
    assert.equal(noRoute.code, 78);
    const { error } = JSON.parse(noRoute.out);
    assert.deepEqual([error.code, error.phase, error.temporary], ["NO_ROUTE", "connect", false]);
    assert.match(error.message, /"x@nowhere\.example"/);
    const crlf = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@one.example\r\nRCPT TO:<evil@x>", "--subject", "s", "--text", "t");
    assert.equal(crlf.code, 65);
    assert.match(crlf.err, /MESSAGE_INVALID/);
    const both = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@one.example", "--message", join(dir, "m.eml"), "--text", "t");
    assert.equal(both.code, 64);
    assert.match(both.err, /--message sends a complete message, so --text cannot be used with it/);
    const net = await cli("send", "--config", config, "--from", "a@sender.example", "--to", "x@one.example", "--subject", "s", "--text", "t", "--net", "carrier-pigeon");
    assert.equal(net.code, 64);
  });

  test("a security failure exits 76 and sends nothing: the sink's CA is not trusted without ca", async () => {
    const strict = join(dir, "strict.yaml");
    writeFileSync(strict, readFileSync(config, "utf8").replace("ca: ./ca.pem, ", ""));
    const before = sink.received().length;
    const r = await cli("send", "--config", strict, "--from", "a@sender.example", "--to", "x@one.example", "--subject", "s", "--text", "t", "--json");
    assert.equal(r.code, 76, r.out);
    const result = JSON.parse(r.out);
    assert.equal(result.error.code, "CERT_UNTRUSTED");
    assert.equal(result.error.phase, "tls");
    assert.ok(result.error.hint.endsWith(`run: mailplan probe --config ${strict} --relay st  (explains the server's TLS and writes the relay for it)`), result.error.hint);
    assert.equal(sink.received().length, before);
  });
});

describe("a delivered message is never reported as failed (issue 8 §5, threats.md F4)", () => {
  const sendArgs = (...more: string[]) => ["send", "--config", config, "--from", "a@sender.example", "--to", "x@one.example", "--subject", "s", "--text", "t", ...more];

  test("--transcript into a missing folder: USAGE before connecting, nothing sent", async () => {
    const before = sink.received().length;
    const r = await cli(...sendArgs("--transcript", join(dir, "missing", "t.txt"), "--json"));
    assert.equal(r.code, 64, r.out);
    const { error } = JSON.parse(r.out);
    assert.equal(error.code, "USAGE");
    assert.match(error.message, /--transcript .*missing.*the folder .* does not exist/);
    assert.equal(sink.received().length, before, "the server got nothing");
  });

  test("--transcript at a symbolic link: refused before connecting, the link's target untouched", async () => {
    const target = join(dir, "link-target.txt");
    writeFileSync(target, "keep me\n");
    const link = join(dir, "t-link.txt");
    symlinkSync(target, link);
    const dangling = join(dir, "t-dangling.txt");
    symlinkSync(join(dir, "would-be-created.txt"), dangling);
    const before = sink.received().length;
    for (const path of [link, dangling]) {
      const r = await cli(...sendArgs("--transcript", path));
      assert.equal(r.code, 64, r.out + r.err);
      assert.match(r.err, /is a symbolic link, and mailplan never writes through one/);
    }
    assert.equal(sink.received().length, before, "the server got nothing");
    assert.equal(readFileSync(target, "utf8"), "keep me\n");
    assert.equal(existsSync(join(dir, "would-be-created.txt")), false);
    assert.ok(lstatSync(link).isSymbolicLink());
  });

  test("--transcript is created 0600 (and an existing file is set to 0600)", async () => {
    const fresh = join(dir, "t-fresh.txt");
    const old = join(dir, "t-old.txt");
    writeFileSync(old, "old\n", { mode: 0o644 });
    for (const path of [fresh, old]) {
      const r = await cli(...sendArgs("--transcript", path));
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.match(readFileSync(path, "utf8"), /^-> STARTTLS$/m);
    }
  });

  test("stdout gone after the 250 (EPIPE): still exit 0", async () => {
    const before = sink.received().length;
    let err = "";
    const code = await runCli(sendArgs("--json"), {
      out: () => {
        throw Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
      },
      err: (t) => void (err += t),
      env: { MAILPLAN_OUTBOX: testOutbox },
    });
    assert.equal(code, 0, err);
    assert.equal(sink.received().length, before + 1);
  });

  test("a transcript that cannot be written after the send is a warning, not a failure", () => {
    const out = openOutputFile(join(dir, "t-warn.txt"), "--transcript");
    out.close(); // the descriptor is gone: the write fails as a full disk would
    assert.match(out.write("text") ?? "", /^could not write --transcript .*t-warn\.txt: /);
  });

  for (const runtime of ["bun", "deno"] as const) {
    test(`as a program on ${runtime}: a closed stdout pipe does not change exit 0`, async () => {
      const args = runtime === "bun" ? ["run"] : ["run", "-A"];
      const before = sink.received().length;
      const child = spawn(join(root, "node_modules", ".bin", runtime), [...args, join(root, "mod.ts"), ...sendArgs("--json")], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", MAILPLAN_OUTBOX: testOutbox },
      });
      child.stdout.destroy(); // nobody reads the result: writing it fails with EPIPE
      let err = "";
      child.stderr.on("data", (d) => (err += d));
      const code = await new Promise((r) => child.on("exit", r));
      assert.equal(code, 0, err);
      assert.equal(sink.received().length, before + 1);
    });
  }
});

describe("output a script and a person can rely on (issue 9)", () => {
  const sendArgs = (cfg: string, ...more: string[]) => ["send", "--config", cfg, "--from", "a@sender.example", "--to", "x@one.example", "--subject", "s", "--text", "t", ...more];

  test("a failed send prints on stderr, nothing on stdout (`>/dev/null` still shows it)", async () => {
    const strict = join(dir, "strict-stderr.yaml");
    writeFileSync(strict, readFileSync(config, "utf8").replace("ca: ./ca.pem, ", ""));
    const r = await cli(...sendArgs(strict));
    assert.equal(r.code, 76);
    assert.equal(r.out, "");
    assert.match(r.err, /^NOT SENT via route one: CERT_UNTRUSTED \(phase tls\)/);
  });

  test("--quiet prints nothing on success, human or --json; a failure is still printed", async () => {
    for (const more of [[], ["--json"]]) {
      const r = await cli(...sendArgs(config, "--quiet", ...more));
      assert.equal(r.code, 0, r.err);
      assert.deepEqual([r.out, r.err], ["", ""]);
    }
    const strict = join(dir, "strict-quiet.yaml");
    writeFileSync(strict, readFileSync(config, "utf8").replace("ca: ./ca.pem, ", ""));
    const failed = await cli(...sendArgs(strict, "--quiet"));
    assert.equal(failed.code, 76);
    assert.match(failed.err, /CERT_UNTRUSTED/);
  });

  test("a missing { env: } secret is a config error found before connecting, not a connect failure", async () => {
    const noEnv = join(dir, "no-env.yaml");
    writeFileSync(noEnv, readFileSync(config, "utf8").replaceAll("password: { file: ./pw }", "password: { env: MAILPLAN_TEST_UNSET_SECRET }"));
    const before = sink.received().length;
    const human = await cli(...sendArgs(noEnv));
    assert.equal(human.code, 78, human.err);
    assert.match(human.err, /^NOT SENT via route one: CONFIG_INVALID \(found before connecting; nothing was sent\) at relay st/);
    assert.doesNotMatch(human.err, /phase connect/);
    assert.match(human.err, /The environment variable MAILPLAN_TEST_UNSET_SECRET is not set/);
    const json = await cli(...sendArgs(noEnv, "--json"));
    const { error } = JSON.parse(json.out);
    assert.deepEqual([error.code, error.phase, error.temporary], ["CONFIG_INVALID", "connect", false], "phase stays within the contract's list");
    assert.equal(sink.received().length, before);
  });

  test("retries of a relay tried first are one line with the count", () => {
    const server = { host: "127.0.0.1", port: 25, strategy: "starttls" as const };
    const busy = { code: "TEMPORARY_FAILURE" as const, phase: "mail" as const, temporary: true, message: "The server said 451 busy.", hint: "" };
    const result: TransactionResult = {
      ok: true, route: "r", relay: "b", server: { ...server, port: 26 }, tls: null, accepted: ["x@one.example"], rejected: [],
      response: { code: 250, text: "ok" }, messageId: null,
      attempts: [{ relay: "a", server, error: busy }, { relay: "a", server, error: busy }, { relay: "a", server, error: busy }, { relay: "b", server: { ...server, port: 26 }, error: null }],
    };
    const tried = renderSendResult(result).split("\n").filter((l) => l.includes("tried first"));
    assert.deepEqual(tried, ["  tried first: a (127.0.0.1:25), 3 times: TEMPORARY_FAILURE: The server said 451 busy."]);
  });
});

describe("Deno with fewer permissions than -A (issue 9): the missing one is named, never 'a bug'", () => {
  /** Runs mod.ts under Deno with exactly these permission flags; the sink runs in this process. */
  async function denoWith(flags: string[], args: string[], env: Record<string, string> = {}) {
    const child = spawn(join(root, "node_modules", ".bin", "deno"), ["run", ...flags, join(root, "mod.ts"), ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", MAILPLAN_OUTBOX: testOutbox, ...env },
    });
    let out = "", err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise((r) => child.on("exit", r));
    return { code, out, err };
  }
  const envConfig = () => {
    const file = join(dir, "env-secret.yaml");
    writeFileSync(file, readFileSync(config, "utf8").replaceAll("password: { file: ./pw }", "password: { env: MAILPLAN_TEST_PW }"));
    return file;
  };
  const sendArgs = (cfg: string, ...more: string[]) => ["send", "--config", cfg, "--from", "a@sender.example", "--to", "x@one.example", "--subject", "perm", "--text", "t", "--no-queue", ...more];

  test("check needs only --allow-read (the YAML library's debug variables need no --allow-env)", async () => {
    const none = await denoWith([], ["check", "--config", config]);
    assert.equal(none.code, 64, none.err);
    assert.match(none.err, /^mailplan: Deno did not grant mailplan read access to ".*mail\.yaml".*--allow-read=/);
    const r = await denoWith(["--allow-read"], ["check", "--config", config]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /0 errors/);
  });

  test("send without --allow-net: USAGE naming --allow-net=HOST:PORT, nothing sent, not queued", async () => {
    const before = sink.received().length;
    const r = await denoWith(["--allow-read", "--allow-env"], sendArgs(config, "--json"));
    assert.equal(r.code, 64, r.out + r.err);
    const { error } = JSON.parse(r.out);
    assert.deepEqual([error.code, error.phase, error.temporary], ["USAGE", "connect", false]);
    assert.match(error.hint, new RegExp(`--allow-net=127\\.0\\.0\\.1:${sink.ports.starttls}`));
    assert.doesNotMatch(r.out + r.err, /internal error|a bug/i);
    assert.equal(sink.received().length, before);
  });

  test("a { env: } secret Deno may not read: named with --allow-env=VAR, not 'not set'", async () => {
    const r = await denoWith(["--allow-read", "--allow-net"], sendArgs(envConfig()), { MAILPLAN_TEST_PW: "pw-for-send-tests" });
    assert.equal(r.code, 64, r.out + r.err);
    assert.match(r.err, /Deno did not grant mailplan env access to "MAILPLAN_TEST_PW"/);
    assert.match(r.err, /--allow-env=MAILPLAN_TEST_PW/);
    assert.doesNotMatch(r.err, /internal error|a bug|is not set/i);
  });

  test("no --allow-sys: the EHLO name falls back to localhost and the send succeeds", async () => {
    const before = sink.received().length;
    const r = await denoWith(["--allow-read", "--allow-net=127.0.0.1", "--allow-env=MAILPLAN_TEST_PW"], sendArgs(envConfig(), "--transcript", join(dir, "perm-t.txt")), { MAILPLAN_TEST_PW: "pw-for-send-tests" });
    assert.equal(r.code, 64, "--transcript needs --allow-write: " + r.err);
    assert.match(r.err, /--allow-write=/);
    // The sink's CA is added to the system roots, which Deno lets a program read only with a bare
    // --allow-sys (its "ca" resource has no --allow-sys=… descriptor).
    const noCa = await denoWith(["--allow-read", "--allow-net=127.0.0.1", "--allow-env=MAILPLAN_TEST_PW"], sendArgs(envConfig()), { MAILPLAN_TEST_PW: "pw-for-send-tests" });
    assert.equal(noCa.code, 64, noCa.err);
    assert.match(noCa.err, /sys access to "ca"/);
    assert.match(noCa.err, /run deno with --allow-sys;/);
    // Without `ca` (verify: false is allowed on loopback) no sys access is needed at all.
    const noCaConfig = join(dir, "env-secret-no-ca.yaml");
    writeFileSync(noCaConfig, readFileSync(envConfig(), "utf8").replace("ca: ./ca.pem, ", "verify: false, "));
    const ok = await denoWith(["--allow-read", "--allow-net=127.0.0.1", "--allow-env=MAILPLAN_TEST_PW"], sendArgs(noCaConfig, "--verbose"), { MAILPLAN_TEST_PW: "pw-for-send-tests" });
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /^-> EHLO localhost$/m);
    assert.equal(sink.received().length, before + 1);
  });
});

describe("send --message - (stdin) as a program", () => {
  for (const runtime of ["bun", "deno"] as const) {
    test(`reads the message from stdin on ${runtime}`, async () => {
      const args = runtime === "bun" ? ["run"] : ["run", "-A"];
      const child = spawn(join(root, "node_modules", ".bin", runtime), [...args, join(root, "mod.ts"), "send", "--config", config, "--from", "a@sender.example", "--to", "s@two.example", "--message", "-"], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1", MAILPLAN_OUTBOX: testOutbox },
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stdin.end(`Subject: stdin ${runtime}\nFrom: a@sender.example\n\nfrom a pipe\n`);
      const code = await new Promise((r) => child.on("exit", r)); // async: the sink runs in this process
      assert.equal(code, 0, out);
      assert.equal(readFileSync(last().path, "utf8"), `Subject: stdin ${runtime}\r\nFrom: a@sender.example\r\n\r\nfrom a pipe\r\n`);
    });
  }
});

describe("demo", () => {
  for (const runtime of ["bun", "deno"] as const) {
    test(`runs end to end on ${runtime}: both strategies, both messages saved`, () => {
      const args = runtime === "bun" ? ["run", "mod.ts", "demo"] : ["run", "-A", "mod.ts", "demo"];
      const r = spawnSync(join(root, "node_modules", ".bin", runtime), args, { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" } });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /-> STARTTLS\n<- 220 /);
      assert.match(r.stdout, /connecting to 127\.0\.0\.1:\d+ \(implicit, TLS from the first byte\)\n\*\* TLS /);
      const saved = [...r.stdout.matchAll(/received on the (starttls|implicit) port \(TLSv1\.[23]\) for \S+: (\S+\.eml)/g)];
      assert.deepEqual(saved.map((m) => m[1]), ["starttls", "implicit"]);
      for (const m of saved) {
        assert.ok(existsSync(m[2]));
        assert.match(readFileSync(m[2], "utf8"), /^Subject: =\?utf-8\?/im);
      }
    });
  }
});
