// Private Postfix instance for tests, under Bun and Deno (see tests/peers/postfix/start.sh for the ports).
//   const pf = await startPostfix();  ...  const msgs = await pf.readMaildir({ count: 1 });  await pf.stop();
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const START = join(here, "postfix", "start.sh");
const STOP = join(here, "postfix", "stop.sh");

export interface PostfixFacts {
  /** instance directory (config in etc/, log in log/maillog) */
  dir: string;
  /** implicit: TLS from the first byte, AUTH required; starttls: STARTTLS required, then AUTH required;
   * plain: STARTTLS offered, no AUTH. All on 127.0.0.1. */
  ports: { implicit: number; starttls: number; plain: number };
  /** PEM file of the CA that signed the server certificate (CN=localhost, SAN localhost + 127.0.0.1) */
  ca: string;
  user: string;
  password: string;
  /** Maildir root; messages for any *@example.test arrive in maildir/new/ */
  maildir: string;
  /** pid of the Postfix master */
  pid?: number;
  /** appears in the banner: `220 mail.example.test ESMTP test-<runId>` */
  runId: string;
  startMs: number;
}

export interface MaildirMessage {
  name: string;
  bytes: Uint8Array;
}

export interface PostfixPeer extends PostfixFacts {
  /** Stops the instance and removes its directory (idempotent). */
  stop(): Promise<void>;
  /** Messages delivered so far (new/ and cur/, oldest first), after waiting until at least `count`
   * (default 1) are there; throws after `timeoutMs` (default 60000: a hang guard, not a verdict) with the maillog tail. */
  readMaildir(opts?: { count?: number; timeoutMs?: number }): Promise<MaildirMessage[]>;
  /** Contents of the instance's maillog (diagnostics). */
  maillog(): Promise<string>;
}

/** Whether the Postfix binary is installed. */
export function postfixAvailable(): boolean {
  return existsSync("/usr/sbin/postfix");
}

/** Throws when Postfix (or the SASL tools it needs) is missing: tests fail loudly instead of skipping. */
export function requirePostfix(): void {
  if (!postfixAvailable() || !existsSync("/usr/sbin/saslpasswd2")) {
    throw new Error("Postfix is not installed: run npm test (it installs postfix sasl2-bin libsasl2-modules with apt-get when run as root), or apt-get install -y postfix sasl2-bin libsasl2-modules");
  }
}

const live = new Set<string>();
let exitHook = false;

function run(file: string, args: string[], env?: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "bash",
      [file, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${file} failed: ${err.message}\n${stderr}`));
        else resolve(String(stdout));
      },
    );
  });
}

/** Starts a fresh instance (free ports, new CA, random password) and waits until it answers. */
export async function startPostfix(env?: Record<string, string>): Promise<PostfixPeer> {
  requirePostfix();
  // the owner watchdog stops the instance if this process dies without stop() (killed runner, uncaught error)
  const out = await run(START, [], { MAILPLAN_PFX_OWNER: String(process.pid), ...env });
  const facts = JSON.parse(out.trim().split("\n").pop()!) as PostfixFacts;
  live.add(facts.dir);
  if (!exitHook) {
    exitHook = true;
    // last resort if a test forgets stop() or the runner dies: never leave a master running
    process.on("exit", () => {
      for (const d of live) {
        try {
          execFileSync("bash", [STOP, d], { stdio: "ignore" });
        } catch { /* ignore */ }
      }
    });
  }
  const newDir = join(facts.maildir, "new");
  const curDir = join(facts.maildir, "cur");
  const list = async (): Promise<string[]> => {
    const names: string[] = [];
    for (const d of [newDir, curDir]) {
      try {
        for (const n of await readdir(d)) names.push(join(d, n));
      } catch { /* not created before the first delivery */ }
    }
    // Maildir names start with the delivery time in seconds, then a unique part
    return names.sort((a, b) => {
      const [sa, sb] = [a, b].map((p) => Number(p.split("/").pop()!.split(".")[0]));
      return sa - sb || a.localeCompare(b);
    });
  };
  const maillog = async () => {
    try {
      return await readFile(join(facts.dir, "log", "maillog"), "utf8");
    } catch {
      return "";
    }
  };
  return {
    ...facts,
    maillog,
    async stop() {
      if (!live.has(facts.dir)) return;
      await run(STOP, [facts.dir]);
      live.delete(facts.dir);
    },
    async readMaildir(opts = {}) {
      const { count = 1, timeoutMs = 60_000 } = opts;
      const deadline = Date.now() + timeoutMs;
      let files = await list();
      while (files.length < count) {
        if (Date.now() > deadline) {
          const log = (await maillog()).trimEnd().split("\n").slice(-15).join("\n");
          throw new Error(
            `Postfix delivered ${files.length} of ${count} message(s) to ${facts.maildir} in ${timeoutMs} ms; maillog tail:\n${log}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
        files = await list();
      }
      return Promise.all(
        files.map(async (f) => ({ name: f.split("/").pop()!, bytes: new Uint8Array(await readFile(f)) })),
      );
    },
  };
}
