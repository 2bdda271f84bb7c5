/**
 * The scenarios behind docs/troubleshooting.md: each one runs the real `mailplan` CLI
 * (`runCli`, in process) against a loopback peer of the test suite — the hostile server, the
 * test PKI, a closed port — and returns what the user sees. The page quotes that output;
 * tests/docs.test.ts runs every scenario the page names and compares, so the page goes stale
 * loudly. `bun run tests/support/doc-scenarios.ts [NAME…]` prints the outputs (to write the page).
 *
 * Invariants: loopback only (127.0.0.1); no scenario depends on machine speed (the one that
 * waits for a greeting waits for mailplan's own 2 s silence check, an event-driven second
 * connection, never a sleep in the test); every server is closed before `run` returns.
 * The page shows the ephemeral port as the port of the entry's story (`display.port`): the only
 * change made to the captured text ({@link normalise}).
 * @module
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runCli } from "../../lib/cli/main.ts";
import { makePki } from "./certs.ts";
import { type Scenario, startHostile } from "./hostile-server.ts";

/** What one scenario printed. */
export interface Captured {
  exit: number;
  /** stdout + stderr of the human run. */
  text: string;
  /** `error.code` of the `--json` run (null when it succeeded or printed no JSON). */
  code: string | null;
}

/** One documented scenario. */
export interface DocScenario {
  /** The port the page shows instead of the ephemeral one. */
  displayPort: number;
  /** Runs it; `net` adds `--net ADAPTER` to a `send` (default: the runtime's default adapter). */
  run(net?: string): Promise<Captured>;
}

const SEND = ["--from", "app@example.com", "--to", "ops@example.com", "--subject", "s", "--text", "t", "--no-queue"];

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "mailplan-docs-"));
  const file = join(dir, "mail.yaml");
  writeFileSync(join(dir, "pw"), "s3cret-pass\n", { mode: 0o600 });
  writeFileSync(file, yaml);
  return file;
}

/** A one-relay config on 127.0.0.1:`port` with `relay` (YAML flow keys) added. */
function relayConfig(port: number, relay: string): string {
  return configFile(`version: 1
relays:
  r: { host: 127.0.0.1, port: ${port}, ${relay}, retry: { attempts: 1 }, timeouts: { connect: 5s, greeting: 5s, tls: 5s, command: 5s } }
routes: [{ name: default, via: [r] }]
`);
}

/** Runs `argv` twice (human, then `--json`) and returns both outcomes. */
async function cli(argv: string[]): Promise<Captured> {
  let text = "";
  const io = { out: (t: string) => void (text += t), err: (t: string) => void (text += t), env: {} };
  const exit = await runCli(argv, io);
  let json = "";
  await runCli([...argv, "--json"], { out: (t: string) => void (json += t), err: () => {}, env: {} });
  let code: string | null = null;
  try {
    code = JSON.parse(json)?.error?.code ?? null;
  } catch { /* not JSON */ }
  return { exit, text, code };
}

/** `send` through a hostile server running `scenario`, with the relay keys `relay` (`ca` = the test root). */
async function sendVia(scenario: Scenario, relay: (pki: ReturnType<typeof makePki>) => string, net?: string): Promise<Captured> {
  const pki = makePki();
  const srv = await startHostile(scenario);
  try {
    const file = relayConfig(srv.port, relay(pki));
    return withPort(await cli(["send", "--config", file, ...SEND, ...(net ? ["--net", net] : [])]), srv.port);
  } finally {
    await srv.close();
  }
}

/** Remembers the ephemeral port so {@link normalise} can replace it. */
function withPort(c: Captured, port: number): Captured {
  return { ...c, text: c.text.replaceAll(`:${port}`, ":PORT") };
}

/**
 * The captured text as the page shows it: the ephemeral port becomes the entry's port, and
 * the temporary config path becomes `mail.yaml`.
 * @example normalise("at 127.0.0.1:PORT", 587) // => "at 127.0.0.1:587"
 */
export function normalise(text: string, port: number): string {
  return text.replaceAll(":PORT", `:${port}`).replace(/\/[^\s:]*\/mailplan-docs-[^/\s]*\/mail\.yaml/g, "mail.yaml");
}

const ca = (pki: ReturnType<typeof makePki>) => `security: { ca: ${JSON.stringify(pki.root.cert.path)} }`;
const AUTH = `auth: { user: me, password: { file: ./pw } }`;

/** Every scenario the page may name, by the name it uses in `<!-- scenario: NAME -->`. */
export const SCENARIOS: Record<string, DocScenario> = {
  /** `check` of implicit TLS on 587: refused before connecting (the 'wrong version number' config). */
  "check-implicit-587": {
    displayPort: 587,
    run: () =>
      cli(["check", "--config", configFile(`version: 1
relays:
  primary: { host: smtp.example.com, port: 587, strategy: implicit }
routes: [{ name: default, via: [primary] }]
`)]),
  },
  /** `check` of STARTTLS on 465: refused before connecting (the greeting-timeout config). */
  "check-starttls-465": {
    displayPort: 465,
    run: () =>
      cli(["check", "--config", configFile(`version: 1
relays:
  primary: { host: smtp.example.com, port: 465, strategy: starttls }
routes: [{ name: default, via: [primary] }]
`)]),
  },
  /** strategy: implicit against a port that greets in plaintext. */
  "implicit-on-plaintext": {
    displayPort: 587,
    run: (net) => sendVia({ mode: "plain" }, (pki) => `strategy: implicit, ${ca(pki)}`, net),
  },
  /** strategy: starttls against a port that waits for a TLS ClientHello. */
  "starttls-on-implicit": {
    displayPort: 465,
    run: (net) => sendVia({ mode: "implicit" }, (pki) => `strategy: starttls, ${ca(pki)}`, net),
  },
  /** A certificate from a CA this machine does not trust (no `ca:`). */
  "untrusted-ca": {
    displayPort: 587,
    run: (net) => sendVia({}, () => `strategy: starttls`, net),
  },
  /** A server that sends its self-signed root along with the chain. */
  "self-signed-in-chain": {
    displayPort: 587,
    run: (net) => {
      const pki = makePki();
      return sendVia({ tls: { key: pki.leaf.key.pem, cert: pki.leaf.chain.pem + pki.root.cert.pem } }, () => `strategy: starttls`, net);
    },
  },
  /** A self-signed leaf. */
  "self-signed-leaf": {
    displayPort: 587,
    run: (net) => sendVia({ tls: { identity: "selfSigned" } }, () => `strategy: starttls`, net),
  },
  /** An expired leaf from a trusted CA. */
  "expired": {
    displayPort: 587,
    run: (net) => sendVia({ tls: { identity: "expired" } }, (pki) => `strategy: starttls, ${ca(pki)}`, net),
  },
  /** A trusted certificate for another name. */
  "wrong-host": {
    displayPort: 587,
    run: (net) => sendVia({ tls: { identity: "wrongHost" } }, (pki) => `strategy: starttls, ${ca(pki)}`, net),
  },
  /** A TLS 1.2 server that demands a client certificate (the handshake_failure alert). */
  "client-cert-tls12": {
    displayPort: 587,
    run: (net) => sendVia({ tls: { maxVersion: "TLSv1.2", requireClientCert: true } }, (pki) => `strategy: starttls, ${ca(pki)}`, net),
  },
  /** Gmail's 535 to a wrong password. */
  "auth-535": {
    displayPort: 587,
    run: (net) =>
      sendVia({
        rules: [{ on: "AUTH", reply: ["535-5.7.8 Username and Password not accepted. For more information, go to", "535 5.7.8  https://support.google.com/mail/?p=BadCredentials"] }],
      }, (pki) => `strategy: starttls, ${ca(pki)}, ${AUTH}`, net),
  },
  /** Gmail's 534 to an account password where an app password is needed. */
  "auth-534": {
    displayPort: 587,
    run: (net) =>
      sendVia({
        rules: [{ on: "AUTH", reply: ["534-5.7.9 Application-specific password required. For more information, go to", "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor"] }],
      }, (pki) => `strategy: starttls, ${ca(pki)}, ${AUTH}`, net),
  },
  /** STARTTLS answered 454. */
  "starttls-454": {
    displayPort: 587,
    run: (net) => sendVia({ rules: [{ on: "STARTTLS", reply: "454 4.7.0 TLS not available due to local problem" }] }, (pki) => `strategy: starttls, ${ca(pki)}`, net),
  },
  /** A server that does not advertise STARTTLS (or a path that strips it). */
  "no-starttls": {
    displayPort: 587,
    run: (net) => sendVia({ starttls: false }, () => `strategy: starttls`, net),
  },
  /** A plaintext relay (`tls: none`) on a server that demands STARTTLS first. */
  "must-starttls-530": {
    displayPort: 25,
    run: (net) =>
      sendVia({ rules: [{ on: "MAIL", phase: "plain", reply: "530 5.7.0 Must issue a STARTTLS command first" }] }, () => `strategy: plain, security: { tls: none }`, net),
  },
  /** Nothing listens on the port (what a firewalled port 25 looks like when it rejects). */
  "connect-refused": {
    displayPort: 25,
    run: async () => {
      const srv = await startHostile({});
      const port = srv.port;
      await srv.close(); // the port is now closed: a connect is refused
      return withPort(await cli(["send", "--config", relayConfig(port, "strategy: starttls"), ...SEND]), port);
    },
  },
  /** A non-ASCII address to a server without SMTPUTF8. */
  "smtputf8": {
    displayPort: 587,
    run: async () => {
      const pki = makePki();
      const srv = await startHostile({});
      try {
        const file = relayConfig(srv.port, `strategy: starttls, ${ca(pki)}`);
        const argv = ["send", "--config", file, "--from", "app@example.com", "--to", "józef@example.com", "--subject", "s", "--text", "t", "--no-queue"];
        return withPort(await cli(argv), srv.port);
      } finally {
        await srv.close();
      }
    },
  },
};

if (import.meta.main) {
  const net = process.env.NET;
  const names = process.argv.slice(2);
  for (const name of names.length ? names : Object.keys(SCENARIOS)) {
    const s = SCENARIOS[name];
    const c = await s.run(net);
    console.log(`=== ${name} (exit ${c.exit}, code ${c.code})\n${normalise(c.text, s.displayPort)}`);
  }
  process.exit(0);
}
