/**
 * The one certificate-name check of mailplan (RFC 6125 §6, RFC 9525): does a certificate's
 * subjectAltName cover the name mailplan dialled (or `server_name`)? Every adapter and `probe`
 * decide with {@link certificateCovers}; a runtime's own `checkServerIdentity` is never trusted
 * alone (Deno's node:tls builds it from an unescaped text form: threats X1/X2).
 *
 * Invariants:
 * - Entries come from the certificate's DER (x509.ts `subjectAltNamesFromDer`), typed.
 * - A DNS reference name matches dNSName entries only; an IP literal (v4, v6, `[v6]`) matches
 *   iPAddress entries only, compared as bytes. No common-name fallback, ever.
 * - A presented dNSName must be letters, digits, hyphens and dots (a NUL, a comma, a space,
 *   `:` or any byte ≥ 0x80 never matches); IDNs are compared in their A-label (ASCII) form.
 * - A wildcard is only the whole left-most label (`*.example.com`), stands for exactly one
 *   non-empty label, and needs at least two labels after it: `f*.example`, `l*host`,
 *   `*.*.example`, `*.com` and `*` never match.
 * - Comparison is ASCII case-insensitive; one trailing dot on either side is ignored.
 *
 * ```ts
 * certificateCovers("mail.example.com", [{ type: "dns", name: "*.example.com" }]); // true
 * certificateCovers("127.0.0.1", [{ type: "dns", name: "127.0.0.1" }]);           // false
 * ```
 */
import { isIP } from "node:net";
import { domainToASCII } from "node:url";

/** One subjectAltName entry, as read from the DER. */
export type SanEntry =
  /** dNSName [2]: its bytes, one Latin-1 character per byte (nothing decoded, nothing dropped). */
  | { type: "dns"; name: string }
  /** iPAddress [7]: 4 octets (IPv4) or 16 (IPv6); other lengths never match. */
  | { type: "ip"; bytes: Uint8Array }
  /** Any other GeneralName (rfc822Name, URI, …): shown, never matched. */
  | { type: "other"; tag: number; text: string | null };

const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** The reference name in comparable form, or null when it is not a usable DNS name. */
function referenceDns(name: string): string | null {
  let n = name.endsWith(".") ? name.slice(0, -1) : name;
  if (/[^\x21-\x7e]/.test(n)) n = domainToASCII(n); // U-labels → A-labels ("" when invalid)
  n = n.toLowerCase();
  if (!n) return null;
  const labels = n.split(".");
  return labels.every((l) => LABEL.test(l)) ? n : null;
}

/** The presented dNSName split into labels, or null when it may never match. */
function presentedLabels(name: string): string[] | null {
  const n = (name.endsWith(".") ? name.slice(0, -1) : name).toLowerCase();
  if (!n) return null;
  const labels = n.split(".");
  for (let i = 0; i < labels.length; i++) {
    if (i === 0 && labels[0] === "*") continue;
    if (!LABEL.test(labels[i])) return null;
  }
  return labels;
}

/** 4 or 16 octets of an IP literal (brackets allowed around IPv6), or null. */
export function ipBytes(literal: string): Uint8Array | null {
  const s = literal.startsWith("[") && literal.endsWith("]") ? literal.slice(1, -1) : literal;
  const v = isIP(s);
  if (v === 4) return Uint8Array.from(s.split(".").map(Number));
  if (v !== 6) return null;
  // Normalise through the URL parser (expands ::, lower-cases, handles embedded IPv4).
  let host: string;
  try {
    host = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const [head, tail] = host.includes("::") ? host.split("::") : [host, null];
  const groups = (p: string) => (p ? p.split(":") : []);
  const h = groups(head);
  const t = tail === null ? [] : groups(tail);
  const all = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  if (all.length !== 8) return null;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
}

function dnsMatches(reference: string, presented: string): boolean {
  const want = reference.split(".");
  const have = presentedLabels(presented);
  if (!have || have.length !== want.length) return false;
  if (have[0] === "*" && have.length < 3) return false; // `*.com`, `*`: too broad
  return have.every((l, i) => (i === 0 && l === "*") || l === want[i]);
}

/**
 * True when one of `sans` covers `name` (host name or IP literal) under the rules above.
 *
 * @example
 * certificateCovers("LOCALHOST.", [{ type: "dns", name: "localhost" }]); // true
 * certificateCovers("localhost", [{ type: "dns", name: "evil.example, DNS:localhost" }]); // false
 */
export function certificateCovers(name: string, sans: readonly SanEntry[]): boolean {
  const ip = ipBytes(name);
  if (ip) {
    return sans.some((s) => s.type === "ip" && s.bytes.length === ip.length && s.bytes.every((b, i) => b === ip[i]));
  }
  const ref = referenceDns(name);
  if (!ref) return false;
  return sans.some((s) => s.type === "dns" && dnsMatches(ref, s.name));
}

function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join(".");
  if (b.length !== 16) return `<${b.length} bytes>`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1); // RFC 5952 form
}

/**
 * The entries as `DNS:x` / `IP Address:y` text, for people and reports only (never for a
 * decision). A dNSName that is not a plain host name is quoted as a JSON string, so
 * `DNS:"evil.example, DNS:localhost"` reads as the one hostile name it is.
 *
 * @example
 * sanText([{ type: "dns", name: "localhost" }, { type: "ip", bytes: Uint8Array.of(127, 0, 0, 1) }]);
 * // ["DNS:localhost", "IP Address:127.0.0.1"]
 */
export function sanText(sans: readonly SanEntry[]): string[] {
  return sans.map((s) => {
    if (s.type === "ip") return `IP Address:${ipText(s.bytes)}`;
    if (s.type === "other") {
      const kind = s.tag === 0x81 ? "email" : s.tag === 0x86 ? "URI" : `othername<${s.tag & 0x1f}>`;
      return `${kind}:${s.text === null ? "<unsupported>" : JSON.stringify(s.text).slice(1, -1)}`;
    }
    return /^[A-Za-z0-9*._-]+$/.test(s.name) ? `DNS:${s.name}` : `DNS:${JSON.stringify(s.name)}`;
  });
}

/** The dNSName entries that are plain host names (for suggestions like `server_name: …`). */
export function dnsNames(sans: readonly SanEntry[]): string[] {
  return sans.flatMap((s) => (s.type === "dns" && presentedLabels(s.name) ? [s.name] : []));
}
