/**
 * What `mailplan sendmail` decides from a message's header and the `sendmail:` config block: the
 * envelope sender (-f, else sendmail.from with %u/%h, else From, else user@host), the recipients
 * of -t (To/Cc/Bcc, or Resent-* when present), local-name aliases, and the header to send (Bcc and
 * Resent-Bcc removed; a missing From, Date or Message-ID added). No I/O: the header comes in as fields.
 * @module
 */
import { hostname, userInfo } from "node:os";
import { MailplanError } from "../codes.ts";
import { formatMailbox, parseMailbox } from "../message/address.ts";
import { formatDate } from "../message/date.ts";
import { headerAddresses } from "../message/header-addresses.ts";
import { fieldValue, type HeaderField, makeField } from "../message/header-read.ts";
import { newMessageId } from "../message/message-id.ts";

type Env = Record<string, string | undefined>;

/** The user name for %u: $USER, else $LOGNAME, else the account's name. */
export function userName(env: Env): string {
  if (env.USER) return env.USER;
  if (env.LOGNAME) return env.LOGNAME;
  try {
    return userInfo().username;
  } catch {
    return "nobody";
  }
}

/**
 * Expands `sendmail.from`: %u user name, %h host name, %% a percent sign (msmtp's `from`).
 * @example expandFrom("%u@%h", { USER: "cron" }, "box.example") // "cron@box.example"
 */
export function expandFrom(template: string, env: Env, host: string = hostname()): string {
  return template.replace(/%(.)?/g, (whole, c: string | undefined) => {
    if (c === "u") return userName(env);
    if (c === "h") return host;
    if (c === "%") return "%";
    throw new MailplanError("CONFIG_INVALID", `sendmail.from ${JSON.stringify(template)} has ${JSON.stringify(whole)}, which is not a placeholder.`, "use %u for the user name, %h for the host name and %% for a percent sign");
  });
}

/** The sendmail-relevant part of a header: the recipients for -t, the From address, what was removed or added. */
export interface HeaderOutcome {
  /** Recipients from To/Cc/Bcc (or Resent-To/Cc/Bcc when present); filled only with -t. */
  recipients: string[];
  /** The envelope sender decided. */
  from: string;
  /** Names of the fields added (From, Date, Message-ID). */
  added: string[];
  /** Names of the fields removed (Bcc, Resent-Bcc). */
  removed: string[];
}

/** Options of the header rewrite (sendmail.* keys and flags). */
export interface HeaderPolicy {
  extract: boolean;
  flagFrom?: string;
  configFrom?: string;
  fullName?: string;
  addFrom: boolean;
  addDate: boolean;
  addMessageId: boolean;
  host: string;
  user: string;
  now: () => Date;
}

/** An address without a domain (cron's `root`) gets the host name, as sendmail qualifies it. */
export const qualify = (address: string, host: string): string => (address === "" || address.includes("@") ? address : `${address}@${host}`);

/**
 * Rewrites a header section for sending: removes Bcc and Resent-Bcc, decides the envelope sender,
 * adds a missing From/Date/Message-ID. Returns the new fields and what happened.
 * @example rewriteHeader(fields, { extract: true, addFrom: true, addDate: true, addMessageId: true, host: "h", user: "u", now: () => new Date() })
 */
export function rewriteHeader(fields: HeaderField[], p: HeaderPolicy): { fields: HeaderField[]; outcome: HeaderOutcome } {
  const named = (n: string) => fields.filter((f) => f.name.toLowerCase() === n);
  const addressesOf = (n: string) => named(n).flatMap((f) => headerAddresses(fieldValue(f), f.name));
  let recipients: string[] = [];
  if (p.extract) {
    const resent = fields.some((f) => /^resent-(to|cc|bcc)$/i.test(f.name));
    const prefix = resent ? "resent-" : "";
    recipients = ["to", "cc", "bcc"].flatMap((n) => addressesOf(prefix + n));
  }
  const fromHeader = addressesOf("from")[0];
  let from: string;
  if (p.flagFrom !== undefined) from = p.flagFrom;
  else if (p.configFrom !== undefined) from = p.configFrom;
  else if (fromHeader !== undefined) from = qualify(fromHeader, p.host);
  else from = `${p.user}@${p.host}`;
  const removed = fields.filter((f) => /^(resent-)?bcc$/i.test(f.name)).map((f) => f.name);
  const kept = fields.filter((f) => !/^(resent-)?bcc$/i.test(f.name));
  const added: string[] = [];
  const has = (n: string) => named(n).length > 0;
  if (p.addFrom && !has("from") && from !== "") {
    kept.push(makeField("From", formatMailbox(parseMailbox(p.fullName === undefined ? from : `"${p.fullName.replace(/(["\\])/g, "\\$1")}" <${from}>`, "sender"))));
    added.push("From");
  }
  if (p.addDate && !has("date")) {
    kept.push(makeField("Date", formatDate(p.now())));
    added.push("Date");
  }
  if (p.addMessageId && !has("message-id")) {
    const domain = from.includes("@") ? from.slice(from.lastIndexOf("@") + 1) : p.host;
    let id: string;
    try {
      id = newMessageId(domain);
    } catch {
      id = newMessageId("localhost");
    }
    kept.push(makeField("Message-ID", id));
    added.push("Message-ID");
  }
  return { fields: kept, outcome: { recipients, from, added, removed } };
}


/** Local-name aliases from `sendmail.aliases`: name (any case) → addresses; "default" catches the rest. */
export type Aliases = Record<string, string | string[]> | undefined;

/**
 * Replaces a recipient without a domain (cron's `root`) by its alias, else the `default` alias;
 * full addresses and names without an alias are returned as they are.
 * @example resolveAlias("Root", { root: "ops@example.com" }) // ["ops@example.com"]
 */
export function resolveAlias(recipient: string, aliases: Aliases): string[] {
  if (recipient.includes("@") || !aliases) return [recipient];
  const key = Object.keys(aliases).find((k) => k.toLowerCase() === recipient.toLowerCase()) ?? (aliases.default !== undefined ? "default" : undefined);
  if (key === undefined) return [recipient];
  const target = aliases[key];
  return (Array.isArray(target) ? target : [target]).flatMap((t) => headerAddresses(t, `sendmail.aliases.${key}`));
}

