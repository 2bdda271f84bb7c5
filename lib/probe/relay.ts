/**
 * The relay of `--config FILE --relay NAME`, as configured, defaults merged. Unlike `send`, a
 * config with lint errors is accepted here: a strategy that contradicts its port is exactly what
 * `probe` is asked to explain. Only a relay that does not validate on its own is refused.
 *
 * ```ts
 * const relay = loadRelay("mail.yaml", "gmail"); // { host, port, strategy, ca, caPath, pin, … }
 * ```
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MailplanError } from "../codes.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { loadConfig } from "../config/load.ts";
import { resolvePath } from "../config/paths.ts";
import { parseSource } from "../config/source.ts";
import { suggestion } from "../config/suggest.ts";
import { validateConfig } from "../config/validate.ts";
import { BUILTIN, effectiveStrategy } from "../config/defaults.ts";
import type { ConfiguredRelay } from "./types.ts";

/** Reads `file` and returns relay `name` (USAGE when there is no such relay, CONFIG_INVALID when it does not validate). */
export function loadRelay(file: string, name: string): ConfiguredRelay {
  const loaded = loadConfig(file); // throws CONFIG_INVALID when unreadable
  const source = parseSource(readFileSync(file, "utf8"), file);
  if (source.value === undefined) throw new ConfigInvalidError(loaded.problems, file);
  const validated = validateConfig(source.value);
  const raw = (source.value ?? {}) as { relays?: Record<string, unknown> };
  const names = Object.keys(raw.relays && typeof raw.relays === "object" ? raw.relays : {});
  if (!names.includes(name)) {
    throw new MailplanError("USAGE", `The config ${file} has no relay named "${name}".`, suggestion(name, names) || `relays in it: ${names.join(", ") || "none"}`);
  }
  const relay = validated.partial.relays[name];
  if (!relay) {
    const own = loaded.problems.filter((p) => p.severity === "error" && p.path[0] === "relays" && p.path[1] === name);
    throw new ConfigInvalidError(own.length ? own : loaded.problems, file);
  }
  const d = validated.partial.defaults;
  const sec = { ...BUILTIN.security, ...d?.security, ...relay.security };
  const baseDir = dirname(resolve(file));
  const pw = relay.auth?.password;
  return {
    name,
    file,
    host: relay.host.replace(/^\[|\]$/g, ""),
    port: relay.port,
    strategy: effectiveStrategy(relay) ?? null,
    strategyPortMismatch: relay.strategy_port_mismatch === "allow",
    helo: relay.helo ?? null,
    tls: sec.tls,
    min_tls: String(sec.min_tls) as "1.2" | "1.3",
    verify: sec.verify,
    ca: sec.ca ?? null,
    caPath: sec.ca ? resolvePath(baseDir, sec.ca) : null,
    pin: sec.pin === undefined ? [] : typeof sec.pin === "string" ? [sec.pin] : [...sec.pin],
    server_name: sec.server_name ? sec.server_name.replace(/^\[|\]$/g, "") : null,
    auth: relay.auth
      ? {
        mechanism: relay.auth.mechanism ?? BUILTIN.mechanism,
        user: relay.auth.user,
        password: typeof pw === "object" && pw ? ("env" in pw ? { env: pw.env } : { file: pw.file }) : null,
      }
      : null,
  };
}

