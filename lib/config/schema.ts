/**
 * The config file's shape (contract.md, "Config keys"), as valibot schemas. The schema validates
 * the YAML as written; normalising (durations to milliseconds, strategy from the port, defaults)
 * is the plan compiler's job, so the same schema also yields the published JSON Schema.
 */
import * as v from "valibot";
import { isIPv6 } from "node:net";
import { DURATION_RE } from "./duration.ts";

/** Separates "what is wrong" from the hint inside a valibot message; see issuesToProblems. */
export const HINT_SEP = "\u001f";
const msg = (what: string, hint = "") => what + HINT_SEP + hint;

/** A choice among fixed strings; the error lists them. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, hint = "") =>
  v.picklist(values, msg(`must be one of ${values.join(", ")}`, hint));

/** Line breaks in values that end up in SMTP commands would inject commands (threat R8). */
const noCrLf = () =>
  // deno-lint-ignore no-control-regex -- NUL is what this rejects
  v.check((s: string) => !/[\r\n\x00]/.test(s), msg("must not contain a line break or NUL", "a line break here would inject SMTP commands; remove it"));

/** `NAME: 10s` style durations. */
export const Duration = v.pipe(
  v.string(msg("must be a duration", "write it like 10s, 2m or 1h30m")),
  v.regex(DURATION_RE, msg("is not a duration", "write it like 500ms, 10s, 2m or 1h30m")),
  v.description("A duration: one or more <number><unit> parts, unit ms, s, m or h (e.g. 10s, 1m30s)."),
);

/** A TCP port number. */
export const Port = v.pipe(
  v.number(msg("must be a port number from 1 to 65535", "use 587 for STARTTLS or 465 for implicit TLS")),
  v.integer(msg("must be a whole port number", "use 587 for STARTTLS or 465 for implicit TLS")),
  v.minValue(1, msg("must be a port number from 1 to 65535", "use 587 for STARTTLS or 465 for implicit TLS")),
  v.maxValue(65535, msg("must be a port number from 1 to 65535", "use 587 for STARTTLS or 465 for implicit TLS")),
);

/** `name:port`, `1.2.3.4:port` or `[v6]:port`: a host with a port glued on. */
const HOST_WITH_PORT = /^([^:[\]]+|\[[^\]]*\]):(\d+)$/;

/** A host name or IP address (IPv6 with or without brackets); a port belongs in `port:`. */
export const Host = v.pipe(
  v.string(msg("must be a host name or IP address", "for example smtp.example.com or 127.0.0.1")),
  v.check(
    (s: string) => !HOST_WITH_PORT.test(s),
    (issue) => {
      const [, host, port] = HOST_WITH_PORT.exec(String(issue.input)) ?? ["", "smtp.example.com", "2525"];
      return msg("has a port in it", `write the port as its own key: host: ${host.replace(/^\[(.*)\]$/, "$1")} and port: ${port}`);
    },
  ),
  v.regex(
    /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?)*\.?|\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$/,
    msg("is not a valid host name or IP address", "write only the name, without scheme, port or path (for example smtp.example.com); the port goes in port:"),
  ),
  v.check(
    (s: string) => !s.includes(":") || isIPv6(s.replace(/^\[(.*)\]$/, "$1")),
    msg("is not a valid IPv6 address", "write it like ::1 or [2001:db8::25]; the port goes in port:"),
  ),
);

/** A reference to a secret: `{ env: VAR }`, `{ file: PATH }`, or (warned about) a literal string. */
export const Secret = v.union(
  [
    v.pipe(v.string(), noCrLf()),
    v.strictObject({
      env: v.pipe(
        v.string(msg("must be an environment variable name")),
        v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, msg("is not an environment variable name", "for example SMTP_PASSWORD")),
      ),
    }),
    v.strictObject({ file: v.pipe(v.string(msg("must be a file path")), v.minLength(1, msg("must not be empty"))) }),
  ],
  msg("must be { env: VAR } or { file: PATH }", "keep secrets out of the config: password: { env: SMTP_PASSWORD }"),
);

const Pin = v.pipe(
  v.string(msg("must be a pin string", "write it as sha256/BASE64; `mailplan probe` prints it")),
  v.regex(
    /^sha256\/[A-Za-z0-9+/]{43}=$/,
    msg("is not a SPKI pin", "write sha256/ followed by the 44-character padded base64 SHA-256 of the SubjectPublicKeyInfo; `mailplan probe` prints it"),
  ),
);

const FilePath = v.pipe(v.string(msg("must be a file path")), v.minLength(1, msg("must not be empty")));

/** The `security:` block of a relay or of `defaults`. */
export const Security = v.strictObject({
  tls: v.optional(oneOf(["required", "opportunistic", "none"] as const, "required refuses to send without TLS")),
  min_tls: v.optional(
    v.union(
      [v.picklist(["1.2", "1.3"] as const), v.picklist([1.2, 1.3] as const)],
      msg('must be "1.2" or "1.3"', 'older versions are broken; write min_tls: "1.2"'),
    ),
  ),
  verify: v.optional(v.boolean(msg("must be true or false", "false is only safe with a pin or on loopback"))),
  ca: v.optional(v.pipe(FilePath, v.description("PEM file of extra trust anchors, relative to the config file."))),
  pin: v.optional(v.union([Pin, v.pipe(v.array(Pin), v.minLength(1, msg("must list at least one pin")))], msg("must be a pin or a list of pins", "write pin: sha256/BASE64"))),
  server_name: v.optional(Host),
  client_cert: v.optional(v.strictObject({ cert: FilePath, key: FilePath })),
  allow_plaintext_auth: v.optional(v.boolean(msg("must be true or false"))),
});

/** The `timeouts:` block. */
export const Timeouts = v.strictObject({
  connect: v.optional(Duration),
  greeting: v.optional(Duration),
  tls: v.optional(Duration),
  command: v.optional(Duration),
  data: v.optional(Duration),
  dot: v.optional(Duration),
});

const Bound = (lo: number, hi: number, what: string) =>
  v.pipe(
    v.number(msg(`must be a whole number from ${lo} to ${hi}`)),
    v.integer(msg(`must be a whole number from ${lo} to ${hi}`)),
    v.minValue(lo, msg(`must be at least ${lo}`, `a smaller ${what} would refuse ordinary servers`)),
    v.maxValue(hi, msg(`must be at most ${hi}`, "the bound is there to keep memory flat whatever a server sends")),
  );

/** The `limits:` block: what a server's replies may cost (memory stays flat whatever it sends). */
export const Limits = v.strictObject({
  max_line: v.optional(Bound(512, 1_048_576, "line limit")),
  max_reply: v.optional(Bound(4096, 16_777_216, "reply limit")),
  max_reply_lines: v.optional(Bound(16, 100_000, "line count")),
  max_auth_rounds: v.optional(Bound(2, 100, "number of AUTH rounds")),
});

/** The `retry:` block (temporary failures only). */
export const Retry = v.strictObject({
  attempts: v.optional(
    v.pipe(
      v.number(msg("must be a whole number from 1 to 20")),
      v.integer(msg("must be a whole number from 1 to 20")),
      v.minValue(1, msg("must be at least 1", "1 means a single try, no retry")),
      v.maxValue(20, msg("must be at most 20", "use max_backoff to wait longer instead")),
    ),
  ),
  backoff: v.optional(Duration),
  max_backoff: v.optional(Duration),
  max_total: v.optional(Duration),
  delivery_unknown: v.optional(
    oneOf(["report", "resend"] as const, "report: a connection lost after the final dot is reported, not resent (the server may have accepted it); resend accepts possible duplicates"),
  ),
});

/** The `auth:` block of a relay. */
export const Auth = v.strictObject({
  mechanism: v.optional(oneOf(["auto", "plain", "login", "xoauth2", "cram-md5"] as const, "auto picks the strongest the server offers over TLS")),
  user: v.pipe(v.string(msg("must be a user name")), v.minLength(1, msg("must not be empty")), noCrLf()),
  password: Secret,
});

const Helo = v.pipe(
  v.string(msg("must be a host name")),
  noCrLf(),
  v.regex(/^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])$/, msg("is not a host name or address literal", "for example client.example.com or [192.0.2.1]")),
);

/** One relay under `relays:`. */
export const Relay = v.strictObject({
  host: Host,
  port: Port,
  strategy: v.optional(oneOf(["starttls", "implicit", "plain"] as const, "starttls for port 587, implicit for port 465")),
  strategy_port_mismatch: v.optional(v.literal("allow", msg('can only be "allow"', "remove the key to keep the port check"))),
  helo: v.optional(Helo),
  security: v.optional(Security),
  timeouts: v.optional(Timeouts),
  retry: v.optional(Retry),
  limits: v.optional(Limits),
  auth: v.optional(Auth),
});

const Globs = v.union(
  [v.string(), v.pipe(v.array(v.string(msg("must be an address pattern"))), v.minLength(1, msg("must list at least one pattern")))],
  msg("must be an address pattern or a list of them", 'for example "*@example.com"'),
);

/** A relay name (a key of `relays:` and an item of `via:`). */
export const RelayName = v.pipe(
  v.string(msg("must be a relay name")),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, msg("is not a valid relay name", "use letters, digits, - and _")),
);

/** The optional `defaults:` block, merged under every relay. */
export const Defaults = v.optional(
  v.strictObject({ security: v.optional(Security), timeouts: v.optional(Timeouts), retry: v.optional(Retry), limits: v.optional(Limits) }),
);

/** One entry of `routes:`. */
export const Route = v.strictObject({
  name: v.pipe(
    v.string(msg("must be a route name")),
    v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, msg("is not a valid route name", "use letters, digits, ., - and _")),
  ),
  match: v.optional(v.strictObject({ from: v.optional(Globs), to: v.optional(Globs) })),
  via: v.pipe(
    v.array(RelayName, msg("must be a list of relay names", "for example via: [primary, backup]")),
    v.minLength(1, msg("must name at least one relay", "for example via: [primary]")),
  ),
});

/** The `sendmail:` block: how `mailplan sendmail` completes a message read from stdin (msmtp's from / set_*_header). */
export const SendmailOptions = v.strictObject({
  from: v.optional(
    v.pipe(
      v.string(msg("must be an address", "for example from: \"%u@%h\" (user and host name) or cron@example.com")),
      noCrLf(),
      v.description("Envelope sender when -f is not given: %u is the user name, %h the host name, %% a percent sign."),
    ),
  ),
  add_from: v.optional(v.boolean(msg("must be true or false", "true adds a From header to messages without one"))),
  add_date: v.optional(v.boolean(msg("must be true or false", "true adds a Date header to messages without one"))),
  add_message_id: v.optional(v.boolean(msg("must be true or false", "true adds a Message-ID header to messages without one"))),
  aliases: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(/^[^@\s]+$/, msg("is not a local name", "write a name without @, such as root, or default"))),
        v.union([v.pipe(v.string(), noCrLf()), v.array(v.pipe(v.string(), noCrLf()))], msg("must be an address or a list of addresses", "for example root: ops@example.com")),
        msg("must be a mapping of local names to addresses", "for example aliases: { root: ops@example.com, default: ops@example.com }"),
      ),
      v.description("Recipients without a domain (cron mails `root`): local name → address(es); `default` catches every other local name."),
    ),
  ),
});

/** The whole config file. */
export const ConfigSchema = v.pipe(
  v.strictObject({
    version: v.literal(1, msg("must be 1", "write version: 1 at the top of the file")),
    outbox: v.optional(FilePath),
    outbox_max_age: v.optional(v.pipe(
      v.string(msg("must be a duration", "write it like 5d, 12h or 1d12h")),
      v.regex(/^(?:\d+(?:ms|s|m|h|d))+$/, msg("is not a duration", "write it like 5d, 12h or 1d12h")),
      v.description("How long `outbox flush` keeps trying an entry before moving it to the failed folder (default 5d; units ms, s, m, h, d)."),
    )),
    sendmail: v.optional(SendmailOptions),
    defaults: Defaults,
    relays: v.pipe(
      v.record(RelayName, Relay, msg("must be a mapping of relay names to relays", "see config/mail.yaml for an example")),
      v.minEntries(1, msg("must define at least one relay", "for example relays: { primary: { host: smtp.example.com, port: 587 } }")),
    ),
    routes: v.pipe(
      v.array(Route, msg("must be a list of routes", "for example routes: [{ name: all, via: [primary] }]")),
      v.minLength(1, msg("must have at least one route", "a route without match catches all mail: { name: all, via: [primary] }")),
    ),
  }, msg("must be a mapping with version, relays and routes")),
  v.title("mailplan config"),
  v.description("mailplan relay and route configuration (version 1). See the README's DSL reference."),
);

/** A validated config, as written (before defaults and inference). */
export type Config = v.InferOutput<typeof ConfigSchema>;
/** A validated relay, as written. */
export type RelayConfig = v.InferOutput<typeof Relay>;
/** A validated `security:` block. */
export type SecurityConfig = v.InferOutput<typeof Security>;
/** A validated route. */
export type RouteConfig = v.InferOutput<typeof Route>;
/** A secret reference as written. */
export type SecretConfig = v.InferOutput<typeof Secret>;
