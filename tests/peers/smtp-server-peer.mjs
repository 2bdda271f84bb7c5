#!/usr/bin/env node
// Controllable SMTP peer for tests, run under Node: `node tests/peers/smtp-server-peer.mjs --key F --cert F ...`
// Two listeners on 127.0.0.1 built with `smtp-server`: a plaintext port offering STARTTLS and an implicit-TLS port.
// Each accepted message is written byte for byte (after dot-unstuffing, without the final ".") to
// OUT/<n>.eml, then OUT/<n>.json {n, envelope, secure, tls, user, ...} (the .json appears last: it marks a
// complete message) before the 250 reply is sent. Prints one JSON line once listening:
//   {"ports":{"starttls":N,"implicit":N},"outDir":"...","pid":N}
// Options:
//   --key FILE --cert FILE        server key + certificate chain (PEM), required
//   --ca FILE                     CA for client certificates (with --require-client-cert)
//   --user U --password P         AUTH PLAIN/LOGIN credentials (default tester / s3cret-pass)
//   --out DIR                     output dir (default: new temp dir)
//   --starttls-port N --implicit-port N   (default 0: a free port)
//   --hide-starttls               STARTTLS works but is not advertised (smtp-server hideSTARTTLS)
//   --disable-starttls            no STARTTLS at all (disabledCommands)
//   --size N [--reject-oversized] advertise SIZE N; with --reject-oversized answer 552 to larger messages
//   --hide-pipelining --hide-8bitmime --hide-smtputf8   drop the capability from EHLO
//   --auth-optional               AUTH offered but not required
//   --require-client-cert         request a client certificate and reject unverified ones (needs --ca)
//   --name NAME                   server name in greeting/EHLO (default localhost)
//   --watch-stdin                 exit when stdin closes (the parent died); the TS wrapper sets it
//   --rm-on-exit PATH             remove PATH (recursively) when exiting; repeatable
// Stops on SIGTERM/SIGINT (closes both listeners, exits 0).
import { SMTPServer } from "smtp-server";
import { parseArgs } from "node:util";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { values: a } = parseArgs({
  options: {
    key: { type: "string" },
    cert: { type: "string" },
    ca: { type: "string" },
    user: { type: "string", default: "tester" },
    password: { type: "string", default: "s3cret-pass" },
    out: { type: "string" },
    "starttls-port": { type: "string", default: "0" },
    "implicit-port": { type: "string", default: "0" },
    "hide-starttls": { type: "boolean" },
    "disable-starttls": { type: "boolean" },
    size: { type: "string" },
    "reject-oversized": { type: "boolean" },
    "hide-pipelining": { type: "boolean" },
    "hide-8bitmime": { type: "boolean" },
    "hide-smtputf8": { type: "boolean" },
    "auth-optional": { type: "boolean" },
    "require-client-cert": { type: "boolean" },
    name: { type: "string", default: "localhost" },
    "watch-stdin": { type: "boolean" },
    "rm-on-exit": { type: "string", multiple: true, default: [] },
  },
});
process.on("exit", () => {
  for (const p of a["rm-on-exit"]) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch { /* ignore */ }
  }
});
const fail = (msg) => {
  process.stderr.write(`smtp-server-peer: ${msg}\n`);
  process.exit(2);
};
if (!a.key || !a.cert) fail("--key and --cert are required");
if (a["require-client-cert"] && !a.ca) fail("--require-client-cert needs --ca");

const outDir = a.out ?? mkdtempSync(join(tmpdir(), "mailplan-smtp-peer-"));
mkdirSync(outDir, { recursive: true });
let count = 0;

const base = {
  key: readFileSync(a.key),
  cert: readFileSync(a.cert),
  ...(a.ca ? { ca: readFileSync(a.ca) } : {}),
  ...(a["require-client-cert"] ? { requestCert: true, rejectUnauthorized: true } : {}),
  name: a.name,
  banner: "mailplan test peer",
  logger: false,
  disableReverseLookup: true,
  authMethods: ["PLAIN", "LOGIN"],
  authOptional: !!a["auth-optional"],
  ...(a.size ? { size: Number(a.size), rejectOversized: !!a["reject-oversized"] } : {}),
  hidePIPELINING: !!a["hide-pipelining"],
  hide8BITMIME: !!a["hide-8bitmime"],
  hideSMTPUTF8: !!a["hide-smtputf8"],
  socketTimeout: 30_000,
  closeTimeout: 200,
  onAuth(auth, _session, cb) {
    if (auth.username === a.user && auth.password === a.password) return cb(null, { user: auth.username });
    cb(Object.assign(new Error("Invalid username or password"), { responseCode: 535 }));
  },
  // A recipient whose local part starts with "refuse-" is refused (550), for per-message failures.
  onRcptTo(address, _session, cb) {
    if (address.address.startsWith("refuse-")) return cb(Object.assign(new Error("5.1.1 No such user"), { responseCode: 550 }));
    cb();
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("error", cb);
    stream.on("end", () => {
      if (stream.sizeExceeded && a["reject-oversized"]) return cb(null); // the library answers 552 itself
      const n = ++count;
      const eml = Buffer.concat(chunks);
      const tlsSock = session.tlsOptions || null;
      const meta = {
        n,
        bytes: eml.length,
        sizeExceeded: !!stream.sizeExceeded,
        envelope: {
          mailFrom: session.envelope.mailFrom
            ? { address: session.envelope.mailFrom.address, args: session.envelope.mailFrom.args }
            : null,
          rcptTo: session.envelope.rcptTo.map((r) => ({ address: r.address, args: r.args })),
        },
        secure: !!session.secure,
        tls: tlsSock ? { protocol: tlsSock.version, cipher: tlsSock.name } : null,
        user: session.user ?? null,
        clientHostname: session.clientHostname,
        heloName: session.hostNameAppearsAs,
        transmissionType: session.transmissionType,
        localPort: session.localPort,
        remotePort: session.remotePort,
        sessionId: session.id,
      };
      writeFileSync(join(outDir, `${n}.eml`), eml);
      writeFileSync(join(outDir, `${n}.json.tmp`), JSON.stringify(meta, null, 2) + "\n");
      renameSync(join(outDir, `${n}.json.tmp`), join(outDir, `${n}.json`));
      cb(null, `OK: message ${n} stored`);
    });
  },
};

const starttls = new SMTPServer({
  ...base,
  hideSTARTTLS: !!a["hide-starttls"],
  ...(a["disable-starttls"] ? { disabledCommands: ["STARTTLS"] } : {}),
});
const implicit = new SMTPServer({ ...base, secure: true });
for (const s of [starttls, implicit]) {
  s.on("error", (e) => process.stderr.write(`smtp-server-peer: ${e.message}\n`));
}

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server.server.address().port));
  });
let ports;
try {
  ports = {
    starttls: await listen(starttls, Number(a["starttls-port"])),
    implicit: await listen(implicit, Number(a["implicit-port"])),
  };
} catch (e) {
  fail(`listen: ${e.message}`);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  let left = 2;
  const done = () => {
    if (--left === 0) process.exit(0);
  };
  starttls.close(done);
  implicit.close(done);
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (a["watch-stdin"]) {
  process.stdin.on("end", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
}

process.stdout.write(JSON.stringify({ ports, outDir, pid: process.pid }) + "\n");
