/**
 * The plan compiler: a valid config (and optionally an envelope) → deterministic plans.
 * Pure: no I/O, no clock, no environment; the same input always gives byte-identical JSON.
 */
import { MailplanError } from "../codes.ts";
import type { Config } from "../config/schema.ts";
import { ConfigInvalidError } from "../config/config-error.ts";
import { checkAddress } from "../message/envelope-address.ts";
import { resolveRelay } from "./relay.ts";
import { compileMatchers, matchLists, splitRecipients } from "./route.ts";
import { lintConfig } from "../config/rules.ts";
import type { ConfigPlan, EnvelopePlan, RelayPlan } from "./types.ts";

function relayPlans(config: Config): Record<string, RelayPlan> {
  const errors = lintConfig(config).filter((p) => p.severity === "error");
  if (errors.length) throw new ConfigInvalidError(errors);
  const out: Record<string, RelayPlan> = Object.create(null); // relay names such as `constructor` are plain keys
  for (const name of Object.keys(config.relays).sort()) out[name] = resolveRelay(name, config.relays[name], config.defaults);
  return out;
}

/** Compiles every route and relay (what `plan` shows without an envelope). */
export function compileConfig(config: Config): ConfigPlan {
  const relays = relayPlans(config);
  return {
    version: 1,
    routes: config.routes.map((r) => ({ name: r.name, match: matchLists(r), via: [...r.via] })),
    relays,
  };
}

/** The envelope to plan: a sender and one or more recipients. */
export interface Envelope {
  from: string;
  to: readonly string[];
}

/**
 * Plans one envelope: each recipient goes to the first route that matches (or to `route` when
 * given); recipients of different routes become separate transactions, in route order.
 * Throws MESSAGE_INVALID for a malformed address and NO_ROUTE when a recipient has no route.
 */
export function planEnvelope(config: Config, envelope: Envelope, options: { route?: string } = {}): EnvelopePlan {
  checkAddress(envelope.from, "sender", true);
  if (envelope.to.length === 0) throw new MailplanError("MESSAGE_INVALID", "No recipient was given.", "add --to name@example.com");
  for (const rcpt of envelope.to) checkAddress(rcpt, "recipient");
  const relays = relayPlans(config);
  let groups: { index: number; recipients: string[] }[];
  if (options.route !== undefined) {
    const index = config.routes.findIndex((r) => r.name === options.route);
    if (index < 0) {
      throw new MailplanError("NO_ROUTE", `There is no route named "${options.route}".`, `routes in this config: ${config.routes.map((r) => r.name).join(", ")}`);
    }
    groups = [{ index, recipients: [...envelope.to] }];
  } else {
    const split = splitRecipients(compileMatchers(config.routes), envelope.from, envelope.to);
    if (split.unrouted.length) {
      throw new MailplanError(
        "NO_ROUTE",
        `No route matches mail from ${JSON.stringify(envelope.from)} to ${split.unrouted.map((a) => JSON.stringify(a)).join(", ")}.`,
        "add a route whose match covers it, or a last route without match to catch all mail",
      );
    }
    groups = split.groups;
  }
  return {
    version: 1,
    envelope: { from: envelope.from, to: [...envelope.to] },
    transactions: groups.map(({ index, recipients }) => ({
      route: config.routes[index].name,
      from: envelope.from,
      recipients,
      relays: config.routes[index].via.map((name) => relays[name]),
    })),
  };
}
