/** The sendmail(8) command line as cron, mail(1), PHP, git send-email and friends pass it: a table of argv → parsed or error. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseSendmailArgs, type SendmailArgs } from "../../lib/cli/sendmail-args.ts";
import { commandLine } from "../../lib/cli/invoked-as.ts";
import { MailplanError } from "../../lib/codes.ts";

const base: SendmailArgs = { action: "send", extract: false, ignoreDots: false, recipients: [], verbose: false, queueOnly: false, ignored: [] };

const ok: [string, string[], Partial<SendmailArgs>][] = [
  ["PHP mail() default", ["-t", "-i"], { extract: true, ignoreDots: true }],
  ["clustered -ti", ["-ti"], { extract: true, ignoreDots: true }],
  ["clustered -it with a glued -f", ["-itfa@x.example"], { extract: true, ignoreDots: true, from: "a@x.example" }],
  ["Vixie cron", ["-FCronDaemon", "-odi", "-oem", "-oi", "-t"], { fullName: "CronDaemon", ignoreDots: true, extract: true, ignored: ["-odi", "-oem"] }],
  ["Debian cron", ["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "ops@x.example"], { fullName: "CronDaemon", ignoreDots: true, recipients: ["ops@x.example"], ignored: ["-B8BITMIME", "-oem"] }],
  ["cronie", ["-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root"], { fullName: "CronDaemon", ignoreDots: true, extract: true, from: "root", ignored: ["-odi", "-oem"] }],
  ["systemd-cron", ["-i", "-B", "8BITMIME", "user@example.org"], { ignoreDots: true, recipients: ["user@example.org"], ignored: ["-B8BITMIME"] }],
  ["Postfix-style mail(1)", ["-oi", "-f", "root@awkward", "-t"], { ignoreDots: true, from: "root@awkward", extract: true }],
  ["git send-email", ["-i", "a@x.example", "b@y.example"], { ignoreDots: true, recipients: ["a@x.example", "b@y.example"] }],
  ["git send-email with an envelope sender", ["-f", "me@x.example", "-i", "a@x.example"], { from: "me@x.example", ignoreDots: true, recipients: ["a@x.example"] }],
  ["-r is -f", ["-r", "me@x.example", "a@x.example"], { from: "me@x.example", recipients: ["a@x.example"] }],
  ["glued -r", ["-rme@x.example"], { from: "me@x.example" }],
  ["null sender", ["-f", "<>", "a@x.example"], { from: "<>", recipients: ["a@x.example"] }],
  ["-F with a space", ["-F", "Backup Job", "a@x.example"], { fullName: "Backup Job", recipients: ["a@x.example"] }],
  ["mail(1) with -v", ["-v", "-i", "--", "-odd@x.example"], { verbose: true, ignoreDots: true, recipients: ["-odd@x.example"] }],
  ["options after recipients", ["a@x.example", "-t"], { extract: true, recipients: ["a@x.example"] }],
  ["-bm is the default mode", ["-bm", "a@x.example"], { recipients: ["a@x.example"] }],
  ["-bp lists the outbox", ["-bp"], { action: "list" }],
  ["-q flushes the outbox", ["-q"], { action: "flush" }],
  ["-odq only queues", ["-odq", "a@x.example"], { queueOnly: true, recipients: ["a@x.example"] }],
  ["-oQ, -odb, -oee, -em accepted", ["-oQ/var/spool/mqueue", "-odb", "-oee", "-em"], { ignored: ["-oQ/var/spool/mqueue", "-odb", "-oee", "-em"] }],
  ["DSN and friends accepted", ["-N", "never", "-R", "hdrs", "-V", "env1", "-L", "tag", "-h", "5", "-U", "-G", "-m"], { ignored: ["-Nnever", "-Rhdrs", "-Venv1", "-Ltag", "-h5", "-U", "-G", "-m"] }],
  ["-O IgnoreDots", ["-O", "IgnoreDots=true"], { ignoreDots: true }],
  ["-O DeliveryMode=b", ["-ODeliveryMode=b"], { ignored: ["-odb"] }],
  ["-C config", ["-C", "/etc/m.yaml", "a@x.example"], { config: "/etc/m.yaml", recipients: ["a@x.example"] }],
  ["--config=FILE", ["--config=/etc/m.yaml"], { config: "/etc/m.yaml" }],
  ["--config FILE", ["--config", "/etc/m.yaml"], { config: "/etc/m.yaml" }],
  ["-oitrue (old form)", ["-oitrue"], { ignoreDots: true }],
];

const bad: [string, string[], RegExp][] = [
  ["-bs (SMTP on stdin)", ["-bs"], /-bs speaks SMTP on stdin/],
  ["-bd (daemon)", ["-bd"], /-bd runs a daemon/],
  ["-bv (verify)", ["-bv", "a@x"], /-bv verifies addresses/],
  ["-bi (newaliases)", ["-bi"], /-bi rebuilds the aliases/],
  ["-I (newaliases)", ["-I"], /-I rebuilds the aliases/],
  ["-q with an interval", ["-q30m"], /-q30m runs the queue on a schedule/],
  ["-X traffic log", ["-X", "/tmp/log"], /-X \(traffic log file\)/],
  ["-d debugging", ["-d0.1"], /-d0\.1 \(debugging\)/],
  ["unknown letter", ["-Z"], /The sendmail flag -Z is not supported/],
  ["unknown -o option", ["-oXfoo"], /The sendmail flag -oXfoo is not supported/],
  ["unknown -O option", ["-O", "Timeout.queuereturn=1d"], /-O Timeout\.queuereturn=1d is not supported/],
  ["bad error mode", ["-ez"], /-ez is not an error mode/],
  ["-f without its value", ["a@x", "-f"], /-f needs a value/],
  ["unknown long option", ["--from", "a@x"], /Unknown option --from for sendmail/],
  ["--config without a value", ["--config"], /--config of sendmail needs a value/],
  ["-q with -bp", ["-q", "-bp"], /cannot be combined/],
];

describe("parseSendmailArgs", () => {
  for (const [name, argv, want] of ok) {
    test(`${name}: ${argv.join(" ")}`, () => {
      assert.deepEqual(parseSendmailArgs(argv), { ...base, ...want });
    });
  }
  for (const [name, argv, message] of bad) {
    test(`${name}: ${argv.join(" ")} is a USAGE error naming the flag`, () => {
      assert.throws(() => parseSendmailArgs(argv), (e: unknown) => {
        assert.ok(e instanceof MailplanError);
        assert.equal(e.code, "USAGE");
        assert.equal(e.exitCode, 64);
        assert.match(e.message, message);
        assert.ok(e.hint.length > 0, "every error has a hint");
        return true;
      });
    });
  }
});

describe("commandLine: the program's name picks the command", () => {
  const table: [string, string[], Record<string, string>, string[], string?][] = [
    ["a standalone binary symlinked as sendmail (argv0)", ["bun", "/$bunfs/root/mailplan-linux-x64", "-ti"], {}, ["sendmail", "-ti"], "/usr/sbin/sendmail"],
    ["a standalone binary run as mailplan", ["bun", "/$bunfs/root/mailplan-linux-x64", "demo"], {}, ["demo"], "/usr/local/bin/mailplan"],
    ["MAILPLAN_INVOKED_AS wins over argv0", ["bun", "/x/mod.ts", "check"], { MAILPLAN_INVOKED_AS: "mailplan" }, ["check"], "sendmail"],
    ["a symlink named sendmail", ["bun", "/usr/sbin/sendmail", "-t", "-i"], {}, ["sendmail", "-t", "-i"]],
    ["the shim's MAILPLAN_INVOKED_AS", ["bun", "/opt/mailplan/mod.ts", "-t"], { MAILPLAN_INVOKED_AS: "sendmail" }, ["sendmail", "-t"]],
    ["mailq lists the outbox", ["bun", "/usr/bin/mailq"], {}, ["sendmail", "-bp"]],
    ["mod.ts runs the command given", ["bun", "/src/mod.ts", "send", "--help"], {}, ["send", "--help"]],
    ["the shim as mailplan", ["node", "/bin/mailplan", "check"], { MAILPLAN_INVOKED_AS: "mailplan" }, ["check"]],
  ];
  for (const [name, argv, env, want, argv0] of table) {
    test(name, () => assert.deepEqual(commandLine(argv, env, argv0), want));
  }
});
