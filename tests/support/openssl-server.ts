/**
 * A real TLS peer the runtimes cannot be: `openssl s_server` with a chosen cipher list and
 * version range (Deno's node:tls server ignores `ciphers`, and neither runtime serves static-RSA
 * or TLS 1.0/1.1 reliably). Loopback only; the port is the one s_server reports ("ACCEPT
 * 127.0.0.1:PORT", an event, not a guess). Used behind the hostile server (`tls.upstreamPort`)
 * or directly for implicit TLS.
 *
 * ```ts
 * const s = await startOpensslServer({ cert, key, cipher: "AES128-SHA", versions: ["-tls1_2"] });
 * // … connect to 127.0.0.1:s.port …
 * s.close();
 * ```
 */
import { spawn } from "node:child_process";

/** What the server offers. */
export interface OpensslServerOptions {
  /** PEM files (an RSA key for static-RSA suites). */
  certFile: string;
  keyFile: string;
  /** OpenSSL cipher list for TLS ≤ 1.2, e.g. `AES128-SHA` or `DES-CBC3-SHA:@SECLEVEL=0`. */
  cipher: string;
  /** Version flags, e.g. `["-tls1_2"]` or `["-tls1", "-tls1_1"]` (one or more of -tls1 … -tls1_3). */
  versions: string[];
  /** More s_server arguments, e.g. `["-Verify", "1", "-CAfile", clientCa]` (require a client certificate). */
  extra?: string[];
}

/** A running `openssl s_server`. */
export interface OpensslServer {
  port: number;
  close(): void;
}

/** Starts `openssl s_server` on 127.0.0.1 (a port of its choosing) and waits for its ACCEPT line. */
export function startOpensslServer(o: OpensslServerOptions): Promise<OpensslServer> {
  const child = spawn(
    "openssl",
    ["s_server", "-accept", "127.0.0.1:0", "-cert", o.certFile, "-key", o.keyFile, "-cipher", o.cipher, ...o.versions, ...(o.extra ?? [])],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const close = () => {
    if (child.exitCode === null) child.kill();
  };
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        child.stdout.on("data", () => {});
        child.stderr.on("data", () => {});
        resolve({ port: Number(m[1]), close });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)));
  });
}
