// Sending from a Deno script. In your project: `npm install mailplan` (with a package.json,
// Deno resolves "mailplan" from node_modules), then `deno run -A deno.ts`. It starts mailplan's
// loopback demo sink, so it needs no real server; with your own, pass `config: "./mail.yaml"`
// (or YAML text) and drop the sink.
import { createMailer, startDemoSink } from "mailplan";

const sink = await startDemoSink(); // 127.0.0.1, implicit TLS and STARTTLS, user/password demo/demo
const mailer = createMailer({
  config: {
    version: 1,
    relays: {
      demo: {
        host: "127.0.0.1", port: sink.ports.implicit, strategy: "implicit",
        security: { verify: false, pin: sink.pin, server_name: "localhost" }, // the sink's own certificate, pinned
        auth: { user: sink.user, password: { env: "SMTP_PASSWORD" } },
      },
    },
    routes: [{ name: "all", via: ["demo"] }],
  },
  env: { SMTP_PASSWORD: sink.password }, // secrets from here instead of the process environment
  outbox: false, // report temporary failures only (default: keep them for `mailplan outbox flush`)
});

const result = await mailer.send({
  from: "Deno script <deno@example.com>",
  to: ["ops@example.com"],
  subject: "Hello from Deno",
  text: "Sent with mailplan's library.",
  attachments: [{ filename: "report.csv", content: "host,ok\nweb1,yes\n" }],
});
await mailer.close();
console.log(JSON.stringify(result, null, 2)); // exactly what `mailplan send --json` prints
console.log(`stored: ${sink.received().at(-1)?.path}`);
await sink.close();
Deno.exitCode = result.ok ? 0 : 1;
