/**
 * Certificate facts from DER bytes: a minimal DER walker for the SubjectPublicKeyInfo, the
 * validity dates and the subjectAltName entries (no dependency on runtime quirks),
 * `node:crypto` X509Certificate for the distinguished names only.
 *
 * Invariant: names used for any decision come from the DER, typed (dNSName [2] as its raw
 * bytes, iPAddress [7] as 4 or 16 octets), never from a runtime's text form of the extension
 * (Deno's `node:crypto` does not escape a comma inside a dNSName: issue 8, threats X1/X2).
 *
 * ```ts
 * const facts = peerCertificateFromDer(der);   // { subject, spkiPin: "sha256/…", validTo, sans, … }
 * ```
 */
import { createHash, X509Certificate } from "node:crypto";
import type { PeerCertificate } from "./conn.ts";
import { type SanEntry, sanText } from "./names.ts";

interface Tlv {
  tag: number;
  /** offset of the tag byte */
  start: number;
  /** offset of the first content byte */
  contentStart: number;
  /** offset just past the content */
  end: number;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new Error("DER: truncated header");
  const tag = der[at];
  let len = der[at + 1];
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new Error("DER: unsupported length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i];
    p += n;
  }
  if (p + len > limit) throw new Error("DER: truncated content");
  return { tag, start: at, contentStart: p, end: p + len };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** tbsCertificate fields: [version], serial, sigAlg, issuer, validity, subject, spki, … */
function tbsFields(der: Uint8Array): Tlv[] {
  const cert = readTlv(der, 0, der.length);
  if (cert.tag !== 0x30) throw new Error("DER: certificate is not a SEQUENCE");
  const tbs = children(der, cert)[0];
  if (!tbs || tbs.tag !== 0x30) throw new Error("DER: tbsCertificate is not a SEQUENCE");
  const f = children(der, tbs);
  return f[0]?.tag === 0xa0 ? f.slice(1) : f;
}

/** The DER SubjectPublicKeyInfo of a DER certificate. */
export function spkiFromDer(der: Uint8Array): Uint8Array {
  const spki = tbsFields(der)[5];
  if (!spki || spki.tag !== 0x30) throw new Error("DER: no SubjectPublicKeyInfo");
  return der.subarray(spki.start, spki.end);
}

/** `sha256/BASE64` (standard, padded) of the certificate's DER SubjectPublicKeyInfo. */
export function spkiPinFromDer(der: Uint8Array): string {
  return "sha256/" + createHash("sha256").update(spkiFromDer(der)).digest("base64");
}

function parseTime(der: Uint8Array, t: Tlv): Date {
  const s = new TextDecoder().decode(der.subarray(t.contentStart, t.end));
  // UTCTime YYMMDDHHMMSSZ (0x17) or GeneralizedTime YYYYMMDDHHMMSSZ (0x18)
  const full = t.tag === 0x17 ? (Number(s.slice(0, 2)) >= 50 ? "19" : "20") + s : s;
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(full);
  if (!m) throw new Error(`DER: unsupported time ${JSON.stringify(s)}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

/** notBefore / notAfter of a DER certificate. */
export function validityFromDer(der: Uint8Array): { notBefore: Date; notAfter: Date } {
  const validity = tbsFields(der)[3];
  const [nb, na] = children(der, validity);
  return { notBefore: parseTime(der, nb), notAfter: parseTime(der, na) };
}

/** OID 2.5.29.17 (subjectAltName), DER content bytes. */
const SAN_OID = [0x55, 0x1d, 0x11];

/**
 * The subjectAltName entries of a DER certificate, typed: dNSName (its bytes as Latin-1 text,
 * so a NUL or any non-ASCII byte survives and can be refused), iPAddress (4 or 16 octets),
 * and every other GeneralName kept as `other` (never matched). No extension → `[]`.
 *
 * @example
 * subjectAltNamesFromDer(der); // [{ type: "dns", name: "localhost" }, { type: "ip", bytes: Uint8Array[127,0,0,1] }]
 */
export function subjectAltNamesFromDer(der: Uint8Array): SanEntry[] {
  const ext = tbsFields(der).find((f) => f.tag === 0xa3);
  if (!ext) return [];
  const [exts] = children(der, ext);
  if (!exts || exts.tag !== 0x30) throw new Error("DER: extensions are not a SEQUENCE");
  for (const e of children(der, exts)) {
    const parts = children(der, e);
    const oid = parts[0];
    if (!oid || oid.tag !== 0x06) continue;
    const id = der.subarray(oid.contentStart, oid.end);
    if (id.length !== SAN_OID.length || !SAN_OID.every((b, i) => id[i] === b)) continue;
    const value = parts[parts.length - 1];
    if (!value || value.tag !== 0x04) throw new Error("DER: subjectAltName is not an OCTET STRING");
    const names = readTlv(der, value.contentStart, value.end);
    if (names.tag !== 0x30) throw new Error("DER: subjectAltName is not a SEQUENCE");
    return children(der, names).map((g): SanEntry => {
      const bytes = der.slice(g.contentStart, g.end);
      if (g.tag === 0x82) return { type: "dns", name: String.fromCharCode(...bytes) };
      if (g.tag === 0x87) return { type: "ip", bytes };
      const text = g.tag === 0x81 || g.tag === 0x86 ? String.fromCharCode(...bytes) : null;
      return { type: "other", tag: g.tag, text };
    });
  }
  return [];
}

/** Everything {@link PeerCertificate} holds, from the DER bytes of one certificate. */
export function peerCertificateFromDer(der: Uint8Array): PeerCertificate {
  const x = new X509Certificate(der);
  const { notBefore, notAfter } = validityFromDer(der);
  const sans = subjectAltNamesFromDer(der);
  return {
    subject: x.subject.split("\n").join(", "),
    issuer: x.issuer.split("\n").join(", "),
    subjectAltNames: sanText(sans),
    sans,
    validFrom: notBefore.toISOString(),
    validTo: notAfter.toISOString(),
    fingerprint256: x.fingerprint256,
    spkiPin: spkiPinFromDer(der),
  };
}

/** Decodes the PEM certificates in `pem` to DER (used to parse trust anchors). */
export function pemToDer(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    const bin = atob(m[1].replace(/\s+/g, ""));
    out.push(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  }
  return out;
}
