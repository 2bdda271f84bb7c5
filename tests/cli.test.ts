/** The CLI: exit statuses, human and --json output, errors as one paragraph, same bytes on Bun and Deno. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { runCli } from "../lib/cli/main.ts";

const root = join(import.meta.dirname!, "..");
const example = join(root, "config", "mail.yaml");
const fixture = (name: string) => join(root, "tests", "fixtures", name);

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}

/** Runs mod.ts as a program under a runtime from node_modules/.bin. */
function run(runtime: "bun" | "deno", args: string[]) {
  const bin = join(root, "node_modules", ".bin", runtime);
  const argv = runtime === "bun" ? ["run", "mod.ts", ...args] : ["run", "-A", "mod.ts", ...args];
  const r = spawnSync(bin, argv, { cwd: root, encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("check", () => {
  test("a valid config exits 0 and says ok", async () => {
    const r = await cli("check", "--config", example);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /0 errors, \d+ warnings?: ok/);
  });
  test("an invalid config exits 78 listing every problem as FILE:LINE:COL", async () => {
    const r = await cli("check", "--config", fixture("invalid/unknown-keys.yaml"));
    assert.equal(r.code, 78);
    const lines = r.out.split("\n").filter((l) => /unknown-keys\.yaml:\d+:\d+ /.test(l));
    assert.equal(lines.length, 7, r.out);
    assert.match(r.out, /7 errors, 0 warnings\. Fix the errors above/);
  });
  test("--json gives the problems as data", async () => {
    const r = await cli("check", "--config", fixture("invalid/types.yaml"), "--json");
    assert.equal(r.code, 78);
    const result = JSON.parse(r.out);
    assert.equal(result.ok, false);
    assert.equal(result.errors, 8);
    assert.deepEqual(Object.keys(result.problems[0]), ["severity", "file", "line", "col", "path", "message", "got", "hint"]);
    assert.deepEqual(result.problems[0], {
      severity: "error", file: fixture("invalid/types.yaml"), line: 14, col: 11, path: "relays.a.port",
      message: "must be a port number from 1 to 65535", got: '"587"', hint: "remove the quotes: port: 587 (a number, not a string)",
    });
  });
  test("broken YAML is a located problem, not a stack trace", async () => {
    const r = await cli("check", "--config", fixture("invalid/yaml-syntax.yaml"));
    assert.equal(r.code, 78);
    assert.match(r.out, /yaml-syntax\.yaml:8:3 \(top level\): YAML syntax error: Map keys must be unique/);
    assert.doesNotMatch(r.out + r.err, /\n\s+at /);
  });
  test("a missing file is CONFIG_INVALID in one paragraph", async () => {
    const r = await cli("check", "--config", "/nonexistent/mail.yaml");
    assert.equal(r.code, 78);
    assert.equal(r.err.trim().split("\n").length, 1);
    assert.match(r.err, /^mailplan: The config file \/nonexistent\/mail\.yaml does not exist\. Hint: .* \(CONFIG_INVALID\)$/m);
  });
});

describe("plan", () => {
  test("without an envelope: every route and relay", async () => {
    const r = await cli("plan", "--config", example);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1\. alerts: from \*@alerts\.example\.com, to \*@example\.com\n\s+via office → primary/);
    assert.match(r.out, /primary-tls\s+smtp\.example\.com:465\s+implicit\s+TLS required ≥1\.2/);
  });
  test("with an envelope: the route and relays each recipient takes", async () => {
    const r = await cli("plan", "--config", example, "--from", "cron@alerts.example.com", "--to", "a@example.com,b@partner.example.org", "--json");
    assert.equal(r.code, 0, r.err);
    const plan = JSON.parse(r.out);
    assert.deepEqual(plan.transactions.map((t: { route: string; relays: { relay: string }[] }) => [t.route, t.relays.map((x) => x.relay)]), [["alerts", ["office", "primary"]], ["partner", ["partner"]]]);
  });
  test("an invalid config prints every problem and exits 78; --json carries them", async () => {
    const r = await cli("plan", "--config", fixture("invalid/strategy-port.yaml"), "--json");
    assert.equal(r.code, 78);
    const result = JSON.parse(r.out);
    assert.equal(result.error.code, "CONFIG_INVALID");
    assert.equal(result.problems.filter((p: { severity: string }) => p.severity === "error").length, 5);
  });
  test("NO_ROUTE exits 78, a malformed address 65", async () => {
    const narrow = fixture("valid/minimal.yaml");
    assert.equal((await cli("plan", "--config", example, "--from", "a@b.example", "--to", "x@y.example", "--route", "nope")).code, 78);
    const bad = await cli("plan", "--config", narrow, "--from", "a@b.example", "--to", "Bob <b example.com>");
    assert.equal(bad.code, 65);
    assert.match(bad.err, /MESSAGE_INVALID/);
  });
});

describe("usage errors exit 64 with a hint", () => {
  const cases: [string[], RegExp][] = [
    [["plna"], /Unknown command "plna"\. Hint: did you mean "plan"\?/],
    [["plan", "--config", "x.yaml", "--form", "a@b.example"], /Unknown option --form for plan\. Hint: did you mean "--from"\?/],
    [["plan", "--config", example, "--from", "a@b.example"], /plan needs --to together with --from/],
    [["check", "--config"], /Option --config of check needs a value/],
    [["check", "--config", example, "extra"], /Unexpected argument "extra"/],
    [["\x1b[31mred"], /Unknown command "\\x1b\[31mred"/],
  ];
  for (const [argv, message] of cases) {
    test(argv.join(" ").replaceAll("\x1b", "ESC"), async () => {
      const r = await cli(...argv);
      assert.equal(r.code, 64);
      assert.match(r.err, message);
      assert.ok(!r.err.includes("\x1b"), "no raw ESC in the error line");
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    });
  }
  test("no command prints the help and exits 64; --help exits 0 for every command", async () => {
    assert.equal((await cli()).code, 64);
    for (const c of ["check", "plan", "schema", "send", "demo", "outbox", "probe"]) {
      const r = await cli(c, "--help");
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^Usage: mailplan ${c}`));
    }
    assert.match((await cli("--help")).out, /Commands:/);
  });
});

describe("as a program on Bun and Deno", () => {
  const envelope = ["--from", "cron@alerts.example.com", "--to", "a@example.com,z@other.example,p@partner.example.org"];
  test("plan --json is byte-identical across two runs and across Bun and Deno", () => {
    for (const extra of [[], envelope]) {
      const args = ["plan", "--config", "config/mail.yaml", "--json", ...extra];
      const outs = [run("bun", args), run("bun", args), run("deno", args), run("deno", args)];
      for (const o of outs) assert.equal(o.code, 0, o.err);
      assert.ok(outs[0].out.length > 500);
      for (const o of outs.slice(1)) assert.equal(o.out, outs[0].out);
    }
  });
  test("exit statuses and stderr are the same on both runtimes", () => {
    for (const args of [["check", "--config", "tests/fixtures/invalid/policy.yaml"], ["plna"], ["check", "--help"]]) {
      const [b, d] = [run("bun", args), run("deno", args)];
      assert.equal(b.code, d.code, args.join(" "));
      assert.equal(b.out, d.out);
      assert.equal(b.err, d.err);
    }
  });
});
