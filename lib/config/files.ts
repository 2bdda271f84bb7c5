/**
 * The files a config refers to outside itself. Certificate files (`ca:`, `client_cert`) are
 * checked on every load: they must be regular files under the size cap and parse as PEM
 * (X509Certificate / createPrivateKey, the same on Bun and Deno), so a broken one is
 * CONFIG_INVALID before anything connects. Secrets are looked at by `check` only, since CI that
 * runs `check` rarely holds them: missing ones are warnings, a special file is an error, and a
 * secret file readable by group or others is a warning (as ssh does for keys).
 * Both run on the valid parts of an invalid config too (all problems at once).
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import process from "node:process";
import type { Config, SecurityConfig } from "./schema.ts";
import type { RelayRefs } from "./rules.ts";
import type { ConfigPath, Problem } from "./problem.ts";
import { resolvePath } from "./paths.ts";
import type { SecretEnv } from "./secret.ts";
import { FILE_LIMITS, readRegularFile } from "./regular-file.ts";

/** What the file checks look at: a valid config, or the valid parts of one. */
export interface FileCheckInput {
  defaults?: Config["defaults"];
  relays: Record<string, RelayRefs>;
  /** When given, looked at instead of `relays` (see LintInput.refs). */
  refs?: Record<string, RelayRefs>;
}

type PemKind = "CERTIFICATE" | "PRIVATE KEY";

/**
 * Why a PEM text is not usable as `kind`, or undefined when it is.
 *
 * @example pemProblem("hello", "CERTIFICATE") // "is not a PEM certificate file"
 */
export function pemProblem(text: string, kind: PemKind): { message: string; hint: string } | undefined {
  const hint = `it should contain -----BEGIN ${kind}----- … -----END ${kind}-----`;
  if (kind === "CERTIFICATE") {
    const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);
    if (blocks.length === 0) return { message: "is not a PEM certificate file", hint };
    for (let i = 0; i < blocks.length; i++) {
      try {
        new X509Certificate(blocks[i]);
      } catch {
        return { message: `has a certificate that cannot be parsed (block ${i + 1} of ${blocks.length})`, hint: "export the certificate again in PEM form" };
      }
    }
    return undefined;
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return { message: "is not a PEM private key file", hint };
  try {
    createPrivateKey(text);
  } catch {
    return { message: "cannot be read as an unencrypted PEM private key", hint: "export the key again in PEM form, without a passphrase" };
  }
  return undefined;
}

/**
 * Errors for `ca:` and `client_cert` files: missing, not a regular file, too big, not PEM.
 *
 * @example checkCertificateFiles(validated.lintable, dirname(configFile)) // [] when every file is fine
 */
export function checkCertificateFiles(config: FileCheckInput, baseDir: string): Problem[] {
  const out: Problem[] = [];
  const pem = (path: ConfigPath, file: string, kind: PemKind) => {
    const abs = resolvePath(baseDir, file);
    const got = JSON.stringify(file);
    const r = readRegularFile(abs, FILE_LIMITS.pem);
    if (!r.ok) {
      const hint = r.refusal.reason === "missing" ? `paths are relative to the config file's folder ${baseDir}` : r.refusal.hint;
      out.push({ severity: "error", path, message: `file ${abs} ${r.refusal.message}`, got, hint });
      return;
    }
    const p = pemProblem(r.text, kind);
    if (p) out.push({ severity: "error", path, message: `file ${abs} ${p.message}`, got, hint: p.hint });
  };
  const security = (sec: SecurityConfig | undefined, path: ConfigPath) => {
    if (sec?.ca) pem([...path, "ca"], sec.ca, "CERTIFICATE");
    if (sec?.client_cert) {
      pem([...path, "client_cert", "cert"], sec.client_cert.cert, "CERTIFICATE");
      pem([...path, "client_cert", "key"], sec.client_cert.key, "PRIVATE KEY");
    }
  };
  security(config.defaults?.security, ["defaults", "security"]);
  const relays = config.refs ?? config.relays;
  for (const name of Object.keys(relays)) security(relays[name].security, ["relays", name, "security"]);
  return out;
}

/**
 * `check`'s look at secrets: unset variables and missing files warn; special files are errors; loose permissions warn.
 *
 * @example checkSecrets(config, baseDir).map(formatProblem) // ["…: warning: secret file /etc/mailplan/pw can be read or changed by group or others (mode 0644); chmod 600 /etc/mailplan/pw"]
 */
export function checkSecrets(config: FileCheckInput, baseDir: string, env: SecretEnv = process.env): Problem[] {
  const out: Problem[] = [];
  const relays = config.refs ?? config.relays;
  for (const name of Object.keys(relays)) {
    const pw = relays[name].auth?.password;
    const path = ["relays", name, "auth", "password"];
    if (!pw || typeof pw !== "object") continue;
    if ("env" in pw) {
      if (!env[pw.env]) out.push({ severity: "warning", path, message: `environment variable ${pw.env} is not set here`, hint: "send will fail unless it is set where mailplan runs" });
      continue;
    }
    const abs = resolvePath(baseDir, pw.file);
    const r = readRegularFile(abs, FILE_LIMITS.secret);
    if (!r.ok && r.refusal.reason === "missing") {
      out.push({ severity: "warning", path, message: `secret file ${abs} does not exist here`, hint: "send will fail unless it exists where mailplan runs (paths are relative to the config file)" });
    } else if (!r.ok) {
      out.push({ severity: "error", path, message: `secret file ${abs} ${r.refusal.message}`, hint: r.refusal.hint });
    } else if (r.mode & 0o077) {
      out.push({
        severity: "warning",
        path,
        message: `secret file ${abs} can be read or changed by group or others (mode ${(r.mode & 0o777).toString(8).padStart(4, "0")})`,
        hint: `chmod 600 ${shellQuote(abs)}`,
      });
    }
  }
  return out;
}

/** A path as one shell word. */
function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}
