/**
 * `check`'s look at what the config refers to outside itself: certificate files must exist and
 * be PEM; secrets are only warned about, since CI that runs `check` rarely holds them.
 */
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import type { Config, SecurityConfig } from "./schema.ts";
import type { ConfigPath, Problem } from "./problem.ts";
import { resolvePath } from "./paths.ts";
import type { SecretEnv } from "./secret.ts";

/** Problems with the files and secrets a valid config refers to. */
export function checkReferences(config: Config, baseDir: string, env: SecretEnv = process.env): Problem[] {
  const out: Problem[] = [];
  const pem = (path: ConfigPath, file: string, kind: "CERTIFICATE" | "PRIVATE KEY") => {
    const abs = resolvePath(baseDir, file);
    if (!existsSync(abs)) {
      out.push({ severity: "error", path, message: "file not found", got: JSON.stringify(file), hint: "paths are relative to the config file" });
      return;
    }
    let text = "";
    try {
      text = readFileSync(abs, "utf8");
    } catch {
      out.push({ severity: "error", path, message: "file cannot be read", got: JSON.stringify(file), hint: "check its permissions" });
      return;
    }
    if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
      out.push({ severity: "error", path, message: `is not a PEM ${kind.toLowerCase()} file`, got: JSON.stringify(file), hint: `it should contain -----BEGIN ${kind}-----` });
    }
  };
  const security = (sec: SecurityConfig | undefined, path: ConfigPath) => {
    if (sec?.ca) pem([...path, "ca"], sec.ca, "CERTIFICATE");
    if (sec?.client_cert) {
      pem([...path, "client_cert", "cert"], sec.client_cert.cert, "CERTIFICATE");
      pem([...path, "client_cert", "key"], sec.client_cert.key, "PRIVATE KEY");
    }
  };
  security(config.defaults?.security, ["defaults", "security"]);
  for (const [name, relay] of Object.entries(config.relays)) {
    security(relay.security, ["relays", name, "security"]);
    const pw = relay.auth?.password;
    const path = ["relays", name, "auth", "password"];
    if (pw && typeof pw === "object" && "env" in pw && !env[pw.env]) {
      out.push({ severity: "warning", path, message: `environment variable ${pw.env} is not set here`, hint: "send will fail unless it is set where mailplan runs" });
    }
    if (pw && typeof pw === "object" && "file" in pw && !existsSync(resolvePath(baseDir, pw.file))) {
      out.push({ severity: "warning", path, message: `secret file ${pw.file} does not exist here`, hint: "send will fail unless it exists where mailplan runs (paths are relative to the config file)" });
    }
  }
  return out;
}
