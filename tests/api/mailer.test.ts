/**
 * The library (`createMailer`) against the demo sink, in the checkout: config as object, text and
 * file; secrets from a passed env; the result is `send --json`'s; delivery failures are results,
 * bad input rejects with MailplanError; html, in-memory attachments, raw bytes and raw streams.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { createMailer, MailplanError } from "../../mod.ts";
import { runCli } from "../../lib/cli/main.ts";
import { type Sink, startSink } from "../../lib/demo/sink.ts";

const PASSWORD = "pw-for-the-library-test";
let sink: Sink;
let config: Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), "mailplan-api-test-"));

before(async () => {
  sink = await startSink({ outDir: join(dir, "received"), user: "u", password: PASSWORD, requireAuth: true });
  config = {
    version: 1,
    defaults: { security: { verify: false, pin: sink.pin, server_name: "localhost" }, timeouts: { greeting: "5s", command: "5s" } },
    relays: {
      st: { host: "127.0.0.1", port: sink.ports.starttls, strategy: "starttls", auth: { user: "u", password: { env: "LIB_TEST_PASSWORD" } } },
      im: { host: "127.0.0.1", port: sink.ports.implicit, strategy: "implicit", auth: { user: "u", password: { env: "LIB_TEST_PASSWORD" } } },
      closed: { host: "127.0.0.1", port: 1, strategy: "implicit", retry: { attempts: 1 } },
    },
    routes: [
      { name: "closed", match: { to: "*@closed.example" }, via: ["closed"] },
      { name: "one", match: { to: "*@one.example" }, via: ["st"] },
      { name: "two", via: ["im"] },
    ],
  };
});
after(async () => await sink?.close());

const last = () => readFileSync(sink.received().at(-1)!.path, "utf8");
const env = { LIB_TEST_PASSWORD: PASSWORD };

describe("createMailer", () => {
  test("send with an object config and secrets from env: the contract's result, the message arrives", async () => {
    const mailer = createMailer({ config, env, outbox: false });
    const r = await mailer.send({ from: "App <app@example.com>", to: ["a@one.example"], cc: "b@two.example", subject: "Hi", text: "Hello from the library" });
    await mailer.close();
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual(r.accepted.sort(), ["a@one.example", "b@two.example"]);
    assert.equal(r.transactions?.length, 2); // one route per recipient, as the CLI splits them
    assert.equal(r.transactions![0].response?.code, 250);
    assert.ok(!JSON.stringify(r).includes(PASSWORD));
    assert.match(last(), /Hello from the library/);
  });

  test("the same config as YAML text, and as a file, give results of the same shape as send --json", async () => {
    const yaml = JSON.stringify(config, null, 2); // JSON is YAML
    const file = join(dir, "mail.yaml");
    writeFileSync(file, yaml);
    const byText = await createMailer({ config: yaml, env, outbox: false }).send({ from: "a@example.com", to: "x@one.example", subject: "t", text: "by text" });
    const byFile = await createMailer({ config: file, env, outbox: false }).send({ from: "a@example.com", to: "x@one.example", subject: "t", text: "by file" });
    let out = "";
    process.env.LIB_TEST_PASSWORD = PASSWORD; // the CLI reads secrets from the process environment
    let code: number;
    try {
      code = await runCli(["send", "--config", file, "--no-queue", "--json", "--from", "a@example.com", "--to", "x@one.example", "--subject", "t", "--text", "by cli"], {
        out: (t) => void (out += t), err: () => {}, env: {},
      });
    } finally {
      delete process.env.LIB_TEST_PASSWORD;
    }
    assert.equal(code, 0, out);
    const cli = JSON.parse(out);
    for (const r of [byText, byFile]) assert.equal(r.ok, true, JSON.stringify(r.error));
    const shape = (o: object): unknown => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v && typeof v === "object" && !Array.isArray(v) ? shape(v) : typeof v]));
    assert.deepEqual(shape(byText), shape(cli));
    assert.deepEqual(shape(byFile), shape(cli));
  });

  test("html and in-memory attachments are composed like --html-file / --attach", async () => {
    const mailer = createMailer({ config, env, outbox: false });
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252]);
    const r = await mailer.send({
      from: "a@example.com", to: "x@two.example", subject: "report", text: "plain", html: "<p>rich</p>",
      attachments: [{ filename: "r.bin", content: bytes, contentType: "application/octet-stream" }, { filename: "n.txt", content: "note" }],
      headers: { "X-Job": "nightly" },
    });
    assert.equal(r.ok, true, JSON.stringify(r.error));
    const m = last();
    assert.match(m, /X-Job: nightly/);
    assert.match(m, /multipart\/alternative/);
    assert.match(m, /<p>rich<\/p>/);
    assert.match(m, /filename=r\.bin/);
    assert.ok(m.includes(btoa(String.fromCharCode(...bytes))));
    assert.ok(m.includes(btoa("note")));
  });

  test("raw bytes and a raw Web stream are sent unchanged (line endings made CRLF)", async () => {
    const mailer = createMailer({ config, env, outbox: false });
    const text = "From: a@example.com\nTo: x@two.example\nSubject: raw\nMessage-ID: <raw-1@example.com>\n\nraw body\n";
    const r1 = await mailer.send({ from: "a@example.com", to: "x@two.example", raw: new TextEncoder().encode(text) });
    assert.equal(r1.ok, true, JSON.stringify(r1.error));
    assert.equal(r1.messageId, "<raw-1@example.com>");
    assert.equal(last(), text.replace(/\n/g, "\r\n"));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(text.slice(0, 20)));
        c.enqueue(new TextEncoder().encode(text.slice(20).replace("raw body", "streamed body")));
        c.close();
      },
    });
    const r2 = await mailer.send({ from: "a@example.com", to: "x@two.example", raw: stream });
    assert.equal(r2.ok, true, JSON.stringify(r2.error));
    assert.match(last(), /streamed body\r\n$/);
  });

  test("a delivery failure is a result (never a rejection), and a temporary one is kept in the outbox", async () => {
    const outbox = mkdtempSync(join(tmpdir(), "mailplan-api-outbox-"));
    const mailer = createMailer({ config, env, outbox });
    const r = await mailer.send({ from: "a@example.com", to: "x@closed.example", subject: "s", text: "t" });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "CONNECT_FAILED");
    assert.equal(r.queued?.dir, outbox);
    assert.ok(readdirSync(outbox).some((f) => f.includes(r.queued!.id)), readdirSync(outbox).join(","));
    const noOutbox = await mailer.send({ from: "a@example.com", to: "x@closed.example", subject: "s", text: "t", outbox: false });
    assert.equal(noOutbox.queued, undefined);
  });

  test("a secret missing from env is a CONFIG_INVALID result naming the variable, not its value", async () => {
    const r = await createMailer({ config, env: {}, outbox: false }).send({ from: "a@example.com", to: "x@two.example", subject: "s", text: "t" });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "CONFIG_INVALID");
    assert.match(r.error!.message, /LIB_TEST_PASSWORD/);
  });

  test("bad input rejects with MailplanError before anything is sent", async () => {
    const mailer = createMailer({ config, env, outbox: false });
    const before = sink.received().length;
    await assert.rejects(mailer.send({ from: "not an address", to: "x@two.example", subject: "s", text: "t" }), (e) => e instanceof MailplanError && e.code === "MESSAGE_INVALID");
    await assert.rejects(mailer.send({ from: "a@example.com", subject: "s", text: "t" }), (e) => e instanceof MailplanError && e.code === "USAGE");
    await assert.rejects(mailer.send({ from: "a@example.com", to: "x@two.example", raw: "x", subject: "s" }), (e) => e instanceof MailplanError && e.code === "USAGE");
    await assert.rejects(mailer.send({ from: "a@example.com", to: "x@two.example", subject: "s", text: "t", route: "nope" }), (e) => e instanceof MailplanError);
    await assert.rejects(
      mailer.send({ from: "a@example.com", to: "x@two.example", subject: "s", text: "t", attachments: [{ filename: "a\r\nb", content: "x" }] }),
      (e) => e instanceof MailplanError && e.code === "MESSAGE_INVALID",
    );
    assert.equal(sink.received().length, before);
    assert.throws(() => createMailer({ config: { version: 1, relays: {}, routes: [{ via: ["ghost"] }] } }), (e) => e instanceof MailplanError && e.code === "CONFIG_INVALID");
    assert.throws(() => createMailer({ config: 42 as unknown as string }), (e) => e instanceof MailplanError && e.code === "USAGE");
    await mailer.close();
    await assert.rejects(mailer.send({ from: "a@example.com", to: "x@two.example", subject: "s", text: "t" }), (e) => e instanceof MailplanError && /closed/.test(e.message));
  });

  test("plan and check, no network", () => {
    const mailer = createMailer({ config, env });
    const plan = mailer.plan({ from: "a@example.com", to: ["x@one.example", "y@two.example"] });
    assert.deepEqual(plan.transactions.map((t) => t.route), ["one", "two"]);
    const check = mailer.check();
    assert.equal(check.ok, true);
    assert.equal(check.warnings, 0); // the env var is in env, so no "not set here" warning
    const withoutSecret = createMailer({ config, env: {} }).check();
    assert.ok(withoutSecret.problems.some((p) => String(p.message).includes("LIB_TEST_PASSWORD")));
  });
});
