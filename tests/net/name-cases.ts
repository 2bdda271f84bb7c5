/**
 * The hostile-certificate table (issue 8 §1, threats X1–X3): one row per certificate whose
 * subjectAltName is written byte for byte, the name mailplan connects with, and whether the
 * certificate must cover it. The SAME table drives the pure matcher test, every adapter on both
 * runtimes (tests/net/names.test.ts), probe's name verdict, and the threat rows
 * (tests/threats/cert-names.test.ts). Every certificate chains to the test root and has
 * CN=localhost, so a CN fallback or a text-form split would turn a `false` row into a delivery.
 */
import type { SanSpec } from "../support/certs.ts";

/** One row. `name` is what mailplan checks: `server_name`, or the IP dialled when it is an IP. */
export interface NameCase {
  id: string;
  title: string;
  sans: SanSpec[];
  name: string;
  covers: boolean;
  /** The threat-catalogue row this case belongs to, if any. */
  threat?: "X1" | "X2" | "X3";
}

export const NAME_CASES: NameCase[] = [
  // ── negative: must end in CERT_HOSTNAME_MISMATCH ──
  { id: "comma-dns", threat: "X1", title: "comma and DNS: inside one dNSName", sans: [{ dns: "evil.example, DNS:localhost" }], name: "localhost", covers: false },
  { id: "comma-ip", threat: "X2", title: "comma and IP Address: inside one dNSName, by IP", sans: [{ dns: "evil.example, IP Address:127.0.0.1" }], name: "127.0.0.1", covers: false },
  { id: "ip-as-dns", threat: "X2", title: "IP literal written as a dNSName", sans: [{ dns: "127.0.0.1" }], name: "127.0.0.1", covers: false },
  { id: "nul", threat: "X3", title: "NUL byte inside a dNSName", sans: [{ dns: "localhost\u0000.evil.example" }], name: "localhost", covers: false },
  { id: "wild-wild", threat: "X3", title: "*.*.example (two wildcard labels)", sans: [{ dns: "*.*.example" }], name: "a.b.example", covers: false },
  { id: "partial-f", threat: "X3", title: "partial wildcard f*o.example", sans: [{ dns: "f*o.example" }], name: "foo.example", covers: false },
  { id: "partial-l", threat: "X3", title: "partial wildcard l*host", sans: [{ dns: "l*host" }], name: "localhost", covers: false },
  { id: "wild-deep", threat: "X3", title: "wildcard matches one label only", sans: [{ dns: "*.example.test" }], name: "a.b.example.test", covers: false },
  { id: "cn-only", title: "no subjectAltName, CN=localhost (no CN fallback)", sans: [], name: "localhost", covers: false },
  { id: "dns-for-ip", title: "dNSName localhost when connecting by IP", sans: [{ dns: "localhost" }], name: "127.0.0.1", covers: false },
  // ── positive controls: must connect ──
  { id: "exact", title: "exact name", sans: [{ dns: "localhost" }], name: "localhost", covers: true },
  { id: "upper", title: "upper-case dNSName", sans: [{ dns: "LOCALHOST" }], name: "localhost", covers: true },
  { id: "trailing-dot", title: "trailing dot on the reference name", sans: [{ dns: "localhost" }], name: "localhost.", covers: true },
  { id: "idn", title: "IDN A-label", sans: [{ dns: "xn--bcher-kva.example" }], name: "xn--bcher-kva.example", covers: true },
  { id: "wildcard", title: "wildcard as the whole left-most label", sans: [{ dns: "*.example.test" }], name: "mail.example.test", covers: true },
  { id: "ip", title: "iPAddress entry, by IP", sans: [{ dns: "evil.example" }, { ip: "127.0.0.1" }], name: "127.0.0.1", covers: true },
];
