/** A relay's security policy → the net layer's TLS options (files read relative to the config). */
import { readFileSync } from "node:fs";
import { resolvePath } from "../config/paths.ts";
import type { RelayPlan } from "../plan/types.ts";
import type { TlsOptions } from "../net/conn.ts";
import { SmtpError } from "../smtp/errors.ts";
import { permissionError } from "../permission.ts";

function readPem(baseDir: string, path: string, what: string): string {
  try {
    return readFileSync(resolvePath(baseDir, path), "utf8");
  } catch (e) {
    const denied = permissionError(e);
    if (denied) throw denied;
    throw new SmtpError({ code: "CONFIG_INVALID", phase: "connect", message: `The ${what} file ${path} cannot be read.`, hint: "paths are relative to the config file; run mailplan check" });
  }
}

/** TLS options for a relay: trust anchors, name, minimum version, verification, client certificate, pins. */
export function tlsOptions(relay: RelayPlan, baseDir: string): TlsOptions {
  const s = relay.security;
  return {
    ...(s.ca ? { ca: readPem(baseDir, s.ca, "CA") } : {}),
    serverName: s.server_name ?? relay.host.replace(/^\[|\]$/g, ""),
    minVersion: s.min_tls,
    verify: s.verify,
    ...(s.client_cert ? { clientCert: { cert: readPem(baseDir, s.client_cert.cert, "client certificate"), key: readPem(baseDir, s.client_cert.key, "client key") } } : {}),
    ...(s.pin.length ? { pins: s.pin } : {}),
  };
}
