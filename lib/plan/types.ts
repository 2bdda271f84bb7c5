/**
 * Connection plans: what the engine runs, and what `plan` prints. Plain objects whose keys are
 * always built in the same order, so `JSON.stringify` output is stable and diffs cleanly.
 */
import type { SecretRef } from "../config/secret.ts";

/** How the connection gets TLS: STARTTLS upgrade, TLS from the first byte, or never. */
export type Strategy = "starttls" | "implicit" | "plain";
/** What the route demands of TLS. */
export type TlsPolicy = "required" | "opportunistic" | "none";

/** Security policy of one relay after defaults are merged. Paths are as written (relative to the config file). */
export interface SecurityPlan {
  tls: TlsPolicy;
  min_tls: "1.2" | "1.3";
  verify: boolean;
  ca: string | null;
  pin: string[];
  server_name: string | null;
  client_cert: { cert: string; key: string } | null;
  allow_plaintext_auth: boolean;
  /**
   * AUTH may be sent without TLS on this relay: allow_plaintext_auth, or a loopback host (a
   * literal 127.0.0.0/8 or ::1 address, or exactly `localhost`) that never uses TLS. Decided
   * once by the compiler; the engine passes it to the session as is.
   */
  plaintext_auth: boolean;
}

/** Per-phase deadlines in milliseconds. */
export interface TimeoutsPlan {
  connect_ms: number;
  greeting_ms: number;
  tls_ms: number;
  command_ms: number;
  /** Sending the message body. */
  data_ms: number;
  /** Waiting for the reply to the final dot (RFC 5321 §4.5.3.2.6: 10 minutes, to avoid duplicates). */
  dot_ms: number;
}

/** Bounds on what a server's replies may cost. */
export interface LimitsPlan {
  max_line: number;
  max_reply: number;
  max_reply_lines: number;
  max_auth_rounds: number;
}

/** Retry policy for temporary failures. */
export interface RetryPlan {
  /** Tries per relay (1 = no retry). */
  attempts: number;
  /** First wait; doubled after each try, with jitter, up to max_backoff_ms. */
  backoff_ms: number;
  max_backoff_ms: number;
  /** No new try starts after this much time on the relay. */
  max_total_ms: number;
  /** After the final dot went unanswered: report (default) or resend (may duplicate). */
  delivery_unknown: "report" | "resend";
}

/** Authentication: mechanism and user, and a reference to the password. */
export interface AuthPlan {
  mechanism: "auto" | "plain" | "login" | "xoauth2" | "cram-md5";
  user: string;
  password: SecretRef;
}

/** Everything needed to open and secure one connection to one relay. */
export interface RelayPlan {
  relay: string;
  host: string;
  port: number;
  strategy: Strategy;
  /** "config" when written, "port" when inferred from a well-known port. */
  strategy_from: "config" | "port";
  helo: string | null;
  security: SecurityPlan;
  auth: AuthPlan | null;
  timeouts: TimeoutsPlan;
  retry: RetryPlan;
  limits: LimitsPlan;
}

/** A route as compiled: what it matches and the relays it tries, in failover order. */
export interface RoutePlan {
  name: string;
  match: { from: string[] | null; to: string[] | null };
  via: string[];
}

/** The plan of every route (`plan` without an envelope). */
export interface ConfigPlan {
  version: 1;
  routes: RoutePlan[];
  /** Relays by name, sorted by name. */
  relays: Record<string, RelayPlan>;
}

/** One SMTP transaction: a sender, the recipients that share a route, and the relays to try in order. */
export interface TransactionPlan {
  route: string;
  from: string;
  recipients: string[];
  relays: RelayPlan[];
}

/** The plan for one envelope (`plan --from --to`, and what `send` runs). */
export interface EnvelopePlan {
  version: 1;
  envelope: { from: string; to: string[] };
  transactions: TransactionPlan[];
}
