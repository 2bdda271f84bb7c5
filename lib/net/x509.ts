/**
 * Certificate facts from DER bytes: a minimal DER walker for the SubjectPublicKeyInfo and the
 * validity dates (no dependency on runtime quirks), `node:crypto` X509Certificate for names.
 *
 * ```ts
 * const facts = peerCertificateFromDer(der);   // { subject, spkiPin: "sha256/…", validTo, … }
 * ```
 */
import { createHash, X509Certificate } from "node:crypto";
import type { PeerCertificate } from "./conn.ts";

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

/** Everything {@link PeerCertificate} holds, from the DER bytes of one certificate. */
export function peerCertificateFromDer(der: Uint8Array): PeerCertificate {
  const x = new X509Certificate(der);
  const { notBefore, notAfter } = validityFromDer(der);
  return {
    subject: x.subject.split("\n").join(", "),
    issuer: x.issuer.split("\n").join(", "),
    subjectAltNames: x.subjectAltName ? x.subjectAltName.split(", ") : [],
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
