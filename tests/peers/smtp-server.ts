// Controllable smtp-server peer for tests under Bun and Deno: runs tests/peers/smtp-server-peer.mjs under Node.
//   const peer = await startSmtpServerPeer({ key, cert, hidePipelining: true });
//   ... const [m] = await peer.messages({ count: 1 }); ... await peer.stop();
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "smtp-server-peer.mjs");

export interface SmtpServerPeerOptions {
  /** server private key: a file path or PEM text */
  key: string;
  /** server certificate chain: a file path or PEM text */
  cert: string;
  /** CA for client certificates (file path or PEM text); needed by requireClientCert */
  ca?: string;
  user?: string; // default "tester"
  password?: string; // default "s3cret-pass"
  outDir?: string; // default: a new temp dir, removed by stop()
  starttlsPort?: number; // default 0 (free port)
  implicitPort?: number; // default 0 (free port)
  /** STARTTLS accepted but not advertised */
  hideStarttls?: boolean;
  /** no STARTTLS at all on the plaintext port */
  disableStarttls?: boolean;
  /** advertise SIZE n */
  size?: number;
  /** answer 552 to messages over `size` (else they are stored with sizeExceeded: true) */
  rejectOversized?: boolean;
  hidePipelining?: boolean;
  hide8bitmime?: boolean;
  hideSmtputf8?: boolean;
  /** AUTH offered but not required for MAIL/RCPT/DATA */
  authOptional?: boolean;
  /** request a client certificate and reject connections without a valid one (needs ca) */
  requireClientCert?: boolean;
  /** server name in greeting and EHLO (default "localhost") */
  name?: string;
  /** node binary (default $MAILPLAN_NODE or "node") */
  node?: string;
}

export interface PeerMessageMeta {
  n: number;
  bytes: number;
  sizeExceeded: boolean;
  envelope: {
    mailFrom: { address: string; args: Record<string, string> | false } | null;
    rcptTo: { address: string; args: Record<string, string> | false }[];
  };
  secure: boolean;
  /** null on a plaintext session */
  tls: { protocol: string; cipher: string } | null;
  user: string | null;
  clientHostname: string;
  heloName: string;
  transmissionType: string;
  /** port the message came in on: compare with ports.starttls / ports.implicit */
  localPort: number;
  /** the client's port and smtp-server's session id: one value per connection */
  remotePort: number;
  sessionId: string;
}

export interface PeerMessage {
  n: number;
  /** the DATA content byte for byte (dot-unstuffed, without the terminating <CRLF>.<CRLF>) */
  eml: Uint8Array;
  meta: PeerMessageMeta;
}

export interface SmtpServerPeer {
  ports: { starttls: number; implicit: number };
  outDir: string;
  pid: number;
  /** Messages received so far, oldest first, after waiting until at least `count` (default 1) are there;
   * throws after `timeoutMs` (default 60000: a hang guard, not a verdict). */
  messages(opts?: { count?: number; timeoutMs?: number }): Promise<PeerMessage[]>;
  /** Stops the peer, waits for the Node process to exit and removes outDir unless the caller chose it
   * (idempotent). */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

function reapStaleOutDirs() {
  for (const n of readdirSync(tmpdir())) {
    const m = /^mailplan-smtp-peer-(\d+)-/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      alive = (e as { code?: string }).code === "EPERM";
    }
    if (!alive) rmSync(join(tmpdir(), n), { recursive: true, force: true });
  }
}
let exitHook = false;

export async function startSmtpServerPeer(opts: SmtpServerPeerOptions): Promise<SmtpServerPeer> {
  let pemDir: string | undefined;
  const file = (v: string, name: string): string => {
    if (!v.includes("-----BEGIN")) return v;
    pemDir ??= mkdtempSync(join(tmpdir(), `mailplan-smtp-peer-${process.pid}-pem-`));
    const p = join(pemDir, name);
    writeFileSync(p, v, { mode: 0o600 });
    return p;
  };
  const args = [
    SCRIPT,
    "--watch-stdin",
    "--key",
    file(opts.key, "key.pem"),
    "--cert",
    file(opts.cert, "cert.pem"),
  ];
  if (opts.ca) args.push("--ca", file(opts.ca, "ca.pem"));
  if (opts.user !== undefined) args.push("--user", opts.user);
  if (opts.password !== undefined) args.push("--password", opts.password);
  // our own temp dir for the messages, named after this process: the peer removes it when it exits (also
  // when we die without stop()); if the peer was SIGKILLed (Deno kills its children on an uncaught error),
  // a later start removes it
  reapStaleOutDirs();
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), `mailplan-smtp-peer-${process.pid}-`));
  args.push("--out", outDir);
  if (!opts.outDir) args.push("--rm-on-exit", outDir);
  if (pemDir) args.push("--rm-on-exit", pemDir);
  if (opts.starttlsPort !== undefined) args.push("--starttls-port", String(opts.starttlsPort));
  if (opts.implicitPort !== undefined) args.push("--implicit-port", String(opts.implicitPort));
  if (opts.size !== undefined) args.push("--size", String(opts.size));
  if (opts.name) args.push("--name", opts.name);
  const flags: [boolean | undefined, string][] = [
    [opts.hideStarttls, "--hide-starttls"],
    [opts.disableStarttls, "--disable-starttls"],
    [opts.rejectOversized, "--reject-oversized"],
    [opts.hidePipelining, "--hide-pipelining"],
    [opts.hide8bitmime, "--hide-8bitmime"],
    [opts.hideSmtputf8, "--hide-smtputf8"],
    [opts.authOptional, "--auth-optional"],
    [opts.requireClientCert, "--require-client-cert"],
  ];
  for (const [on, flag] of flags) if (on) args.push(flag);

  const node = opts.node ?? process.env.MAILPLAN_NODE ?? "node";
  const child = spawn(node, args, { stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", () => {
      // SIGTERM: the peer closes its ports and removes its temp dirs (--rm-on-exit) on its own
      for (const c of live) {
        try {
          c.kill("SIGTERM");
        } catch { /* ignore */ }
      }
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += String(c)));

  const ready = await new Promise<
    { ports: { starttls: number; implicit: number }; outDir: string; pid: number }
  >(
    (resolve, reject) => {
      let out = "";
      const onData = (c: unknown) => {
        out += String(c);
        const nl = out.indexOf("\n");
        if (nl < 0) return;
        child.stdout!.off("data", onData);
        try {
          resolve(JSON.parse(out.slice(0, nl)));
        } catch (e) {
          reject(new Error(`smtp-server peer printed no JSON: ${out}\n${stderr}`, { cause: e }));
        }
      };
      child.stdout!.on("data", onData);
      child.once("error", (e) => reject(new Error(`cannot run ${node} ${SCRIPT}: ${e.message}`)));
      child.once(
        "exit",
        (code) => reject(new Error(`smtp-server peer exited (${code}) before listening:\n${stderr}`)),
      );
    },
  ).catch((e) => {
    child.kill("SIGKILL");
    live.delete(child);
    if (pemDir) rmSync(pemDir, { recursive: true, force: true });
    if (!opts.outDir) rmSync(outDir, { recursive: true, force: true });
    throw e;
  });
  child.stdout!.resume(); // nothing more is printed; keep the pipe drained
  if (pemDir) rmSync(pemDir, { recursive: true, force: true }); // the peer has read its PEM files

  const list = async () => {
    const names = (await readdir(ready.outDir)).filter((n) => /^\d+\.json$/.test(n));
    return names.map((n) => Number(n.split(".")[0])).sort((x, y) => x - y);
  };
  let stopped: Promise<void> | undefined;
  return {
    ports: ready.ports,
    outDir: ready.outDir,
    pid: ready.pid,
    async messages({ count = 1, timeoutMs = 60_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      let ns = await list();
      while (ns.length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `smtp-server peer received ${ns.length} of ${count} message(s) in ${timeoutMs} ms\n${stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
        ns = await list();
      }
      return Promise.all(ns.map(async (n) => ({
        n,
        eml: new Uint8Array(await readFile(join(ready.outDir, `${n}.eml`))),
        meta: JSON.parse(await readFile(join(ready.outDir, `${n}.json`), "utf8")) as PeerMessageMeta,
      })));
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 3000);
          await exited;
          clearTimeout(t);
        }
        child.stdin!.destroy();
        child.stdout!.destroy();
        child.stderr!.destroy();
        live.delete(child);
        if (pemDir) rmSync(pemDir, { recursive: true, force: true });
        if (!opts.outDir) rmSync(outDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
