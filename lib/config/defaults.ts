import type { RelayConfig } from "./schema.ts";

/** Built-in defaults, applied under `defaults:` and each relay (contract.md, "Config keys"). */
export const BUILTIN = {
  security: { tls: "required", min_tls: "1.2", verify: true, allow_plaintext_auth: false },
  timeouts: { connect: "10s", greeting: "30s", tls: "20s", command: "60s", data: "300s", dot: "10m" },
  limits: { max_line: 8192, max_reply: 65536, max_reply_lines: 1000, max_auth_rounds: 10 },
  retry: { attempts: 3, backoff: "1s", max_backoff: "60s", max_total: "5m", delivery_unknown: "report" },
  mechanism: "auto",
} as const;

/** Well-known ports and the strategy each implies when `strategy` is absent. */
export const PORT_STRATEGY: Readonly<Record<number, "starttls" | "implicit">> = {
  465: "implicit",
  25: "starttls",
  587: "starttls",
  2525: "starttls",
};

/**
 * The strategy written, else the one the port implies, else undefined (the rules report it).
 *
 * @example effectiveStrategy({ host: "h", port: 465 }) // "implicit"
 */
export function effectiveStrategy(relay: Pick<RelayConfig, "strategy" | "port">): "starttls" | "implicit" | "plain" | undefined {
  return relay.strategy ?? PORT_STRATEGY[relay.port];
}
