/** One relay of the config → its RelayPlan: defaults merged, durations in ms, strategy inferred. */
import type { Config, RelayConfig } from "../config/schema.ts";
import { parseDuration } from "../config/duration.ts";
import { toSecretRef } from "../config/secret.ts";
import { BUILTIN, effectiveStrategy } from "../config/defaults.ts";
import { plaintextAuthAllowed } from "../config/host.ts";
import type { RelayPlan } from "./types.ts";

const ms = (d: string) => parseDuration(d) ?? 0;

/**
 * Merges built-in defaults, `defaults:` and the relay's own keys (the relay wins, key by key;
 * lists such as `pin` are replaced, not merged). Call only on a config without lint errors.
 */
export function resolveRelay(name: string, relay: RelayConfig, defaults: Config["defaults"]): RelayPlan {
  const sec = { ...BUILTIN.security, ...defaults?.security, ...relay.security };
  const t = { ...BUILTIN.timeouts, ...defaults?.timeouts, ...relay.timeouts };
  const r = { ...BUILTIN.retry, ...defaults?.retry, ...relay.retry };
  const limits = { ...BUILTIN.limits, ...defaults?.limits, ...relay.limits };
  const strategy = effectiveStrategy(relay);
  if (strategy === undefined) throw new Error(`relay ${name}: no strategy (lint first)`);
  return {
    relay: name,
    host: relay.host,
    port: relay.port,
    strategy,
    strategy_from: relay.strategy ? "config" : "port",
    helo: relay.helo ?? null,
    security: {
      tls: sec.tls,
      min_tls: String(sec.min_tls) as "1.2" | "1.3",
      verify: sec.verify,
      ca: sec.ca ?? null,
      pin: sec.pin === undefined ? [] : typeof sec.pin === "string" ? [sec.pin] : [...sec.pin],
      server_name: sec.server_name ?? null,
      client_cert: sec.client_cert ? { cert: sec.client_cert.cert, key: sec.client_cert.key } : null,
      allow_plaintext_auth: sec.allow_plaintext_auth,
      plaintext_auth: plaintextAuthAllowed({ host: relay.host, strategy, tls: sec.tls, allow_plaintext_auth: sec.allow_plaintext_auth }),
    },
    auth: relay.auth
      ? { mechanism: relay.auth.mechanism ?? BUILTIN.mechanism, user: relay.auth.user, password: toSecretRef(relay.auth.password) }
      : null,
    timeouts: {
      connect_ms: ms(t.connect),
      greeting_ms: ms(t.greeting),
      tls_ms: ms(t.tls),
      command_ms: ms(t.command),
      data_ms: ms(t.data),
      dot_ms: ms(t.dot),
    },
    retry: {
      attempts: r.attempts,
      backoff_ms: ms(r.backoff),
      max_backoff_ms: ms(r.max_backoff),
      max_total_ms: ms(r.max_total),
      delivery_unknown: r.delivery_unknown,
    },
    limits: { max_line: limits.max_line, max_reply: limits.max_reply, max_reply_lines: limits.max_reply_lines, max_auth_rounds: limits.max_auth_rounds },
  };
}
