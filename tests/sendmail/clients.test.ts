/**
 * `mailplan sendmail` driven by the real clients that call /usr/sbin/sendmail — bsd-mailx's
 * `mail -s`, `git send-email --sendmail-cmd`, and cron's MAILTO pipe (the flags and headers
 * Vixie and Debian cron write) — each message read back from a loopback smtp-server peer (over
 * STARTTLS with AUTH) and compared: header, body, Bcc gone, envelope. Also the terminator rules
 * (-i or not), the outbox on a temporary failure (exit 75, -bp, -q), and one-line permanent errors.
 *
 * The program runs under the runtime that runs this file (bun test → Bun, deno test → Deno), via a
 * `sendmail` wrapper script that sets MAILPLAN_INVOKED_AS=sendmail as the installed shim does.
 * bsd-mailx and git-email come from Debian; `npm test` installs them (tests/support/system-packages.mjs).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { makePki } from "../support/certs.ts";
import { type PeerMessage, type SmtpServerPeer, startSmtpServerPeer } from "../peers/smtp-server.ts";
import { startHostile } from "../support/hostile-server.ts";

const root = join(import.meta.dirname!, "..", "..");
/** Per-test limit: each test starts the program (and git or mail) once or a few times; a loaded machine is slow. */
const T = 120_000;
const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined" ? "deno" : "bun";
const dir = mkdtempSync(join(tmpdir(), "mailplan-sendmail-test-"));
const outbox = join(dir, "outbox");
const pki = makePki();
let peer: SmtpServerPeer;
let good: string; // config: the peer, sendmail.from set
let plainCfg: string; // config: the peer, no sendmail block (sender from the From header)
let down: string; // config: a closed port (temporary failure), same outbox
const sendmail = join(dir, "bin", "sendmail");

/** True when a client is installed; tests/run-all.mjs (npm test, CI) installs them (tests/support/system-packages.mjs). */
function installed(check: string): boolean {
  return spawnSync("sh", ["-c", check]).status === 0;
}
const haveMailx = installed("command -v bsd-mailx");
const haveGitEmail = installed('test -x "$(git --exec-path)/git-send-email"');

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  peer = await startSmtpServerPeer({ key: pki.leaf.key.path, cert: pki.leaf.chain.path, user: "tester", password: "sendmail-pass-1" });
  writeFileSync(join(dir, "pw"), "sendmail-pass-1\n");
  const relay = `{ host: 127.0.0.1, port: ${peer.ports.starttls}, strategy: starttls, security: { ca: ${pki.root.cert.path}, server_name: localhost }, auth: { user: tester, password: { file: ./pw } } }`;
  const head = `version: 1\noutbox: ./outbox\ndefaults: { timeouts: { greeting: 5s, command: 5s }, retry: { attempts: 1 } }\n`;
  good = join(dir, "good.yaml");
  writeFileSync(good, `${head}sendmail: { from: "%u@sender.example" }\nrelays:\n  peer: ${relay}\nroutes:\n  - { name: all, via: [peer] }\n`);
  plainCfg = join(dir, "plain.yaml");
  writeFileSync(plainCfg, `${head}sendmail: { aliases: { root: "Ops <ops@example.net>" } }\nrelays:\n  peer: ${relay}\nroutes:\n  - { name: all, via: [peer] }\n`);
  down = join(dir, "down.yaml");
  writeFileSync(down, `${head}relays:\n  gone: { host: 127.0.0.1, port: ${await closedPort()}, strategy: plain, security: { tls: none } }\nroutes:\n  - { name: all, via: [gone] }\n`);
  mkdirSync(join(dir, "bin"));
  const run = runtime === "bun" ? "run" : "run -A";
  writeFileSync(sendmail, `#!/bin/sh\nMAILPLAN_INVOKED_AS=sendmail exec "${join(root, "node_modules", ".bin", runtime)}" ${run} "${join(root, "mod.ts")}" "$@"\n`);
  chmodSync(sendmail, 0o755);
  writeFileSync(join(dir, "mailrc"), `set sendmail=${sendmail}\n`);
}, { timeout: T });
after(async () => {
  await peer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = (config: string, extra: Record<string, string> = {}) => ({
  PATH: `${join(dir, "bin")}:${process.env.PATH}`, HOME: dir, USER: "cronuser", LOGNAME: "cronuser", NO_COLOR: "1", MAILPLAN_CONFIG: config, ...extra,
});

/** Runs a shell command line with our `sendmail` first on PATH; returns status and output. */
function sh(script: string, config = good, input?: string) {
  const r = spawnSync("sh", ["-c", script], { cwd: dir, env: env(config), input, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The next message the peer receives after `count` it had before. */
async function next(count: number): Promise<PeerMessage> {
  const all = await peer.messages({ count: count + 1, timeoutMs: 20_000 });
  assert.equal(all.length, count + 1, "exactly one new message");
  return all[count];
}
const received = async () => (await peer.messages({ count: 0 })).length;
const text = (m: PeerMessage) => new TextDecoder().decode(m.eml);
const rcpts = (m: PeerMessage) => m.meta.envelope.rcptTo.map((r) => r.address).sort();
const header = (m: PeerMessage) => text(m).slice(0, text(m).indexOf("\r\n\r\n") + 2);
const body = (m: PeerMessage) => text(m).slice(text(m).indexOf("\r\n\r\n") + 4);

describe(`sendmail on ${runtime}`, () => {
  test("bsd-mailx: mail -s with -c and -b (it runs sendmail -i -t): Bcc removed, From/Date/Message-ID added, envelope right", { timeout: T, skip: !haveMailx && "bsd-mailx is not installed" }, async () => {
    const n = await received();
    const r = sh(`MAILRC=${dir}/mailrc mail -s "Disk report ✓" -c cc@copy.example -b hidden@blind.example to@dest.example`, good, "Disk usage is fine.\n.\nStill the body after a lone dot (-i).\n");
    assert.equal(r.code, 0, r.err);
    const m = await next(n);
    assert.deepEqual(rcpts(m), ["cc@copy.example", "hidden@blind.example", "to@dest.example"]);
    assert.equal(m.meta.envelope.mailFrom?.address, "cronuser@sender.example", "sendmail.from with %u");
    assert.equal(m.meta.secure, true);
    assert.equal(m.meta.user, "tester");
    const h = header(m);
    assert.doesNotMatch(h, /^bcc:/im, "Bcc is gone");
    assert.doesNotMatch(text(m), /hidden@blind\.example/);
    assert.match(h, /^To: to@dest\.example\r$/m);
    assert.match(h, /^Cc: cc@copy\.example\r$/m);
    assert.match(h, /^Subject: /m);
    assert.match(h, /^From: cronuser@sender\.example\r$/m);
    assert.match(h, /^Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r$/m);
    assert.match(h, /^Message-ID: <[^@\s]+@sender\.example>\r$/m);
    assert.equal(body(m), "Disk usage is fine.\r\n.\r\nStill the body after a lone dot (-i).\r\n");
  });

  test("git send-email --sendmail-cmd with a patch: the message as git wrote it, envelope from --envelope-sender", { timeout: T, skip: !haveGitEmail && "git-email is not installed" }, async () => {
    const repo = join(dir, "repo");
    const git = (...args: string[]) => {
      const r = spawnSync("git", args, {
        cwd: repo, encoding: "utf8",
        env: { ...env(good), GIT_AUTHOR_NAME: "Ann Dev", GIT_AUTHOR_EMAIL: "ann@dev.example", GIT_COMMITTER_NAME: "Ann Dev", GIT_COMMITTER_EMAIL: "ann@dev.example", GIT_CONFIG_NOSYSTEM: "1" },
      });
      assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    mkdirSync(repo);
    git("init", "-q");
    git("commit", "-q", "--allow-empty", "-m", "init");
    writeFileSync(join(repo, "a.txt"), "hello\n.\nlast\n");
    git("add", "a.txt");
    git("commit", "-q", "-m", "Add a.txt with a lone dot line");
    git("format-patch", "-q", "-1", "-o", join(dir, "patches"));
    const patch = join(dir, "patches", readdirSync(join(dir, "patches"))[0]);
    const n = await received();
    git("send-email", `--sendmail-cmd=${sendmail}`, "--to=list@lists.example", '--cc="Doe, Bob" <bob@x.example>', "--bcc=hidden@blind.example", "--from=Ann Dev <ann@dev.example>", "--envelope-sender=ann@dev.example", "--suppress-cc=all", "--confirm=never", "--quiet", patch);
    const m = await next(n);
    assert.equal(m.meta.envelope.mailFrom?.address, "ann@dev.example");
    assert.deepEqual(rcpts(m), ["bob@x.example", "hidden@blind.example", "list@lists.example"]);
    const h = header(m);
    assert.match(h, /^Subject: \[PATCH\] Add a\.txt with a lone dot line\r$/m);
    assert.match(h, /^From: Ann Dev <ann@dev\.example>\r$/m);
    assert.match(h, /^Message-Id: <[^>]+@dev\.example>\r$/m, "git's own Message-Id is kept (no second one)");
    assert.doesNotMatch(h, /^Message-ID:/m);
    assert.doesNotMatch(text(m), /hidden@blind/);
    assert.equal(h.match(/^Date:/gm)?.length, 1, "git's Date is kept, none added");
    assert.match(body(m), /\r\n\+hello\r\n\+\.\r\n\+last\r\n/, "the diff arrives whole");
  });

  const cronHeader = (to: string) =>
    `From: root (Cron Daemon)\nTo: ${to}\nSubject: Cron <root@${hostname().split(".")[0]}> /usr/local/bin/backup\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <MAILTO=${to}>\n\n`;
  const job = `printf 'backup done: 3 files\\n.\\nsizes: äöü\\n'`;

  test("Debian cron without MAILTO (mails root): header then job output piped to sendmail -FCronDaemon -i -B8BITMIME -oem root; root's alias", { timeout: T }, async () => {
    const n = await received();
    const r2 = spawnSync("sh", ["-c", `{ printf '%s' "$HDR"; ${job}; } | sendmail -FCronDaemon -i -B8BITMIME -oem root`], { cwd: dir, env: { ...env(plainCfg), HDR: cronHeader("root") }, encoding: "utf8" });
    assert.equal(r2.status, 0, r2.stderr);
    const m = await next(n);
    assert.equal(m.meta.envelope.mailFrom?.address, `root@${hostname()}`, "From: root (Cron Daemon), qualified with the host name");
    assert.deepEqual(rcpts(m), ["ops@example.net"]);
    assert.equal(m.meta.envelope.mailFrom?.args && m.meta.envelope.mailFrom.args.BODY, "8BITMIME");
    const h = header(m);
    assert.ok(h.startsWith("From: root (Cron Daemon)\r\nTo: root\r\nSubject: Cron <"), h);
    assert.equal(h.match(/^X-Cron-Env:/gm)?.length, 2);
    assert.match(h, /^Date: /m);
    assert.match(h, /^Message-ID: </m);
    assert.equal(body(m), "backup done: 3 files\r\n.\r\nsizes: äöü\r\n");
  });

  test("Vixie cron's run: sendmail -FCronDaemon -odi -oem -oi -t, recipients from To", { timeout: T }, async () => {
    const n = await received();
    const r = spawnSync("sh", ["-c", `{ printf '%s' "$HDR"; ${job}; } | sendmail -FCronDaemon -odi -oem -oi -t`], { cwd: dir, env: { ...env(good), HDR: cronHeader("Ops Team <ops@example.net>, dev@example.org") }, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, "", "success prints nothing");
    const m = await next(n);
    assert.equal(m.meta.envelope.mailFrom?.address, "cronuser@sender.example", "sendmail.from wins over the From header");
    assert.deepEqual(rcpts(m), ["dev@example.org", "ops@example.net"]);
    assert.equal(body(m), "backup done: 3 files\r\n.\r\nsizes: äöü\r\n");
  });

  test("without -i a lone dot ends the message; -f and -F make the From of a bare message; -h N (hop count) is not --help", { timeout: T }, async () => {
    const n = await received();
    const r = sh("sendmail -h 5 -f job@sender.example -F 'Nightly Job' -- rcpt@example.net", good, "Subject: dots\n\nbefore\n..two dots stay\n.\nafter the terminator\n");
    assert.equal(r.code, 0, r.err);
    const m = await next(n);
    assert.equal(m.meta.envelope.mailFrom?.address, "job@sender.example");
    assert.match(header(m), /^From: Nightly Job <job@sender\.example>\r$/m);
    assert.equal(body(m), "before\r\n..two dots stay\r\n");
  });

  test("-v prints the SMTP conversation on stderr, the password redacted", { timeout: T }, async () => {
    const n = await received();
    const r = sh("sendmail -v -oem -t", good, "To: v@example.net\nSubject: verbose\n\nv\n");
    assert.equal(r.code, 0, r.err);
    await next(n);
    assert.match(r.err, /^mailplan: accepted without effect: -oem$/m);
    assert.ok(r.err.includes(`mailplan: config ${good}\n`), "-v says which config file was used ($MAILPLAN_CONFIG here)");
    assert.match(r.err, /^-> STARTTLS$/m);
    assert.match(r.err, /^~> MAIL FROM:<cronuser@sender\.example>/m);
    assert.match(r.err, /^~> RCPT TO:<v@example\.net>/m);
    assert.doesNotMatch(r.err, /sendmail-pass-1/);
    assert.doesNotMatch(r.err, new RegExp(Buffer.from("\0tester\0sendmail-pass-1").toString("base64")));
  });

  test("a 4 MB body with mixed line endings and dot lines arrives whole, line endings CRLF (streamed, -i)", { timeout: T }, async () => {
    const lines = Array.from({ length: 40_000 }, (_, i) => (i % 7 === 0 ? "." : i % 5 === 0 ? `.${i}` : `line ${i} ${"x".repeat(80)}`));
    const input = "To: big@example.net\nSubject: big\n\n" + lines.map((l, i) => l + (i % 3 === 0 ? "\r\n" : i % 3 === 1 ? "\n" : "\r")).join("");
    const n = await received();
    const r = sh("sendmail -t -i", good, input);
    assert.equal(r.code, 0, r.err);
    const m = await next(n);
    assert.equal(body(m), lines.join("\r\n") + "\r\n");
  });

  test("a temporary failure keeps the message in the outbox (exit 75, one line); -bp lists it, -q sends it", { timeout: T }, async () => {
    const r = sh("sendmail -t", down, "To: later@example.net\nSubject: queued\n\nkept\n");
    assert.equal(r.code, 75, r.err);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    assert.match(r.err, /^mailplan: kept in the outbox as \S+ .*CONNECT_FAILED/);
    const list = sh("sendmail -bp", down);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^1 message in /);
    assert.match(list.out, /to later@example\.net/);
    const n = await received();
    const flush = sh(`sendmail -q -C ${good}`, down);
    assert.equal(flush.code, 0, flush.out + flush.err);
    const m = await next(n);
    assert.deepEqual(rcpts(m), ["later@example.net"]);
    assert.equal(body(m), "kept\r\n");
    assert.match(sh("sendmail -bp", down).out, /^0 messages in /);
  });

  test("an outbox that cannot be written does not stop the send (one warning line); -f root gets the host name", { timeout: T }, async () => {
    const cfg = join(dir, "nobox.yaml");
    writeFileSync(cfg, readFileSync(plainCfg, "utf8").replace("outbox: ./outbox", "outbox: ./pw/outbox"));
    const n = await received();
    const r = sh("sendmail -f root -t", cfg, "To: w@example.net\nSubject: no outbox\n\nw\n");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^mailplan: warning: the outbox \S+\/pw\/outbox cannot be written \(.*\); sending without it/);
    assert.equal(r.err.trimEnd().split("\n").length, 1);
    const m = await next(n);
    assert.equal(m.meta.envelope.mailFrom?.address, `root@${hostname()}`);
    assert.match(header(m), new RegExp(`^From: root@${hostname().replace(/\./g, "\\.")}\r$`, "m"));
  });

  test("-odq stores without trying (exit 0) and -q delivers it", { timeout: T }, async () => {
    const r = sh("sendmail -odq -t", good, "To: q@example.net\nSubject: held\n\nheld\n");
    assert.equal(r.code, 0, r.err);
    assert.equal(existsSync(outbox) && readdirSync(outbox).length > 0, true);
    const n = await received();
    assert.equal(sh("sendmail -q", good).code, 0);
    assert.equal(body(await next(n)), "held\r\n");
  });

  const failures: [string, string, string, number, RegExp][] = [
    ["an unknown flag", "sendmail -Z a@example.net", "Subject: x\n\nx\n", 64, /^mailplan: The sendmail flag -Z is not supported .*\(USAGE\)$/],
    ["no recipients", "sendmail", "Subject: x\n\nx\n", 64, /^mailplan: sendmail needs recipients\. .*\(USAGE\)$/],
    ["-t without recipient headers", "sendmail -t", "Subject: x\n\nx\n", 65, /^mailplan: The message has no recipients.*\(MESSAGE_INVALID\)$/],
    ["an unqualified recipient (MAILTO=root)", "sendmail -t", "To: root\n\nx\n", 65, /^mailplan: The recipient "root" has no domain\. .*MAILTO=you@example\.com.*\(MESSAGE_INVALID\)$/],
    ["a broken To header", "sendmail -t", "To: \"Ann <a@x.example>\n\nx\n", 65, /^mailplan: The To header has an unterminated quoted string.*\(MESSAGE_INVALID\)$/],
    ["no config anywhere", "MAILPLAN_CONFIG= XDG_CONFIG_HOME=/nonexistent sendmail a@example.net", "x\n", 78, /^mailplan: No mailplan config found \(looked at \/nonexistent\/mailplan\/mail\.yaml and \/etc\/mailplan\/mail\.yaml\)\. .*\(CONFIG_INVALID\)$/],
  ];
  for (const [name, cmd, input, code, line] of failures) {
    test(`${name}: exit ${code} and one line on stderr`, { timeout: T, skip: name === "no config anywhere" && existsSync("/etc/mailplan/mail.yaml") && "this machine has /etc/mailplan/mail.yaml" }, () => {
      const r = sh(cmd, good, input);
      assert.equal(r.code, code, r.err);
      assert.equal(r.out, "");
      assert.equal(r.err.trimEnd().split("\n").length, 1, r.err);
      assert.match(r.err.trimEnd(), line);
    });
  }
});

/** Like sh(), without blocking the event loop (for a server in this process). */
function shAsync(script: string, config: string, input: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", script], { cwd: dir, env: env(config) });
    let out = "", err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}

describe(`sendmail on ${runtime}: permanent refusals (hostile scriptable server)`, () => {
  const configFor = (port: number) => {
    const file = join(dir, `hostile-${port}.yaml`);
    writeFileSync(file, `version: 1\noutbox: ./outbox-hostile\nrelays: { h: { host: 127.0.0.1, port: ${port}, strategy: plain, security: { tls: none }, retry: { attempts: 1 } } }\nroutes: [{ name: r, via: [h] }]\n`);
    return file;
  };

  test("every recipient refused (550): exit 69, one line with the server's text escaped, nothing kept", { timeout: T }, async () => {
    const srv = await startHostile({ starttls: false, rules: [{ on: "RCPT", reply: "550 5.1.1 \x1b[2Jno such user" }] });
    try {
      const r = await shAsync("sendmail -t -i", configFor(srv.port), "To: nobody@example.net\nSubject: x\n\nx\n");
      assert.equal(r.code, 69, r.err);
      assert.equal(r.out, "");
      assert.equal(r.err.trimEnd().split("\n").length, 1, r.err);
      assert.match(r.err, /^mailplan: .*\\x1b\[2Jno such user.*\((REJECTED|RECIPIENTS_REJECTED)\)$/m);
      assert.ok(!r.err.includes("\x1b"), "no raw ESC in the error line");
      assert.equal(existsSync(join(dir, "outbox-hostile")) ? readdirSync(join(dir, "outbox-hostile")).filter((n) => !n.startsWith(".")).length : 0, 0);
    } finally {
      await srv.close();
    }
  });

  test("one of two recipients refused: sent to the other, exit 69, one line naming both", { timeout: T }, async () => {
    const srv = await startHostile({ starttls: false, rules: [{ on: "RCPT", nth: 2, reply: "550 5.1.1 unknown" }] });
    try {
      const r = await shAsync("sendmail -i ok@example.net bad@example.net", configFor(srv.port), "Subject: x\n\nx\n");
      assert.equal(r.code, 69, r.err);
      assert.equal(r.err, "mailplan: sent to ok@example.net; refused: bad@example.net (550 5.1.1 unknown) (RECIPIENTS_REJECTED)\n");
    } finally {
      await srv.close();
    }
  });
});
