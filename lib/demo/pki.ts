/**
 * A throw-away PKI for the demo sink, made in memory at start-up: a CA and one server certificate
 * it signed, for `localhost` and `127.0.0.1`. No `openssl` CLI and no dependency: keys and
 * signatures come from `node:crypto` (EC P-256, ECDSA-SHA256; same in Bun, Deno and Node), and the
 * X.509 structures are written by the small DER encoder below (RFC 5280).
 *
 * ```ts
 * const pki = generateDemoPki();
 * // server: tls.createServer({ key: pki.key, cert: pki.cert })
 * // client: { ca: pki.ca, serverName: "localhost", pins: [pki.pin] }
 * ```
 *
 * Choices that matter to strict verifiers (rustls/webpki in Deno, BoringSSL in Bun, OpenSSL):
 * - the leaf is CA:FALSE (Deno refuses a CA certificate as a server certificate), has keyUsage
 *   digitalSignature, extKeyUsage serverAuth, and the names in subjectAltName (CN is not used);
 * - the CA is CA:TRUE with pathLen 0 and keyUsage keyCertSign + cRLSign, both critical;
 * - the issuer of the leaf is byte-for-byte the subject of the CA, and the leaf's
 *   authorityKeyIdentifier is the CA's subjectKeyIdentifier;
 * - serial numbers are random positive 16-byte integers; notBefore is an hour in the past so a
 *   slightly skewed clock still accepts the certificates.
 */
import { Buffer } from "node:buffer";
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";

/** The demo PKI: every value is PEM text or a pin string, ready for TLS options. */
export interface DemoPki {
  /** The CA certificate (PEM): the trust anchor a client passes as `ca`. */
  ca: string;
  /** The server certificate (PEM), signed by the CA. */
  cert: string;
  /** The server certificate's private key (PKCS#8 PEM). */
  key: string;
  /** `sha256/BASE64`: SHA-256 of the server certificate's DER SubjectPublicKeyInfo. */
  pin: string;
  /** The names the server certificate covers. */
  names: { dns: string[]; ip: string[] };
  /** Validity of both certificates. */
  notBefore: Date;
  notAfter: Date;
}

export interface DemoPkiOptions {
  /** DNS names of the server certificate (default `["localhost"]`). */
  dns?: string[];
  /** IPv4 addresses of the server certificate (default `["127.0.0.1"]`). */
  ip?: string[];
  /** Lifetime in days from now (default 7). */
  days?: number;
  /** "Now", for tests (default the current time). */
  now?: Date;
}

// ---------------------------------------------------------------------------------------------
// DER: each function returns the complete encoding (tag, length, content) of one value.

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concat(content);
  const n = body.length;
  let head: number[];
  if (n < 0x80) head = [tag, n];
  else if (n < 0x100) head = [tag, 0x81, n];
  else if (n < 0x10000) head = [tag, 0x82, n >> 8, n & 0xff];
  else head = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat([Uint8Array.from(head), body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const seq = (...items: Uint8Array[]) => tlv(0x30, ...items);
const set = (...items: Uint8Array[]) => tlv(0x31, ...items);
const octets = (bytes: Uint8Array) => tlv(0x04, bytes);
const utf8 = (text: string) => tlv(0x0c, new TextEncoder().encode(text));
/** [n] EXPLICIT: a constructed context tag around a complete encoding. */
const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);
const TRUE = Uint8Array.from([0x01, 0x01, 0xff]);

/** A non-negative INTEGER from big-endian magnitude bytes (minimal, with a 0x00 sign pad). */
function integer(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return tlv(0x02, m[0] & 0x80 ? concat([Uint8Array.of(0), m]) : m);
}

function oid(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  const bytes = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** BIT STRING from whole bytes (no unused bits): signatures. */
const bitString = (bytes: Uint8Array) => tlv(0x03, Uint8Array.of(0), bytes);

/** BIT STRING of named bits (bit 0 = most significant bit of the first byte): keyUsage. */
function namedBits(bits: number[]): Uint8Array {
  const len = Math.floor(Math.max(...bits) / 8) + 1;
  const bytes = new Uint8Array(len);
  for (const b of bits) bytes[b >> 3] |= 0x80 >> (b & 7);
  const last = bytes[len - 1];
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return tlv(0x03, Uint8Array.of(unused), bytes);
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), whole seconds, Zulu. */
function time(d: Date): Uint8Array {
  const iso = d.toISOString(); // 2026-11-26T08:18:25.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z"; // 20261126081825Z
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, ascii(digits.slice(2))) : tlv(0x18, ascii(digits));
}
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

// ---------------------------------------------------------------------------------------------
// X.509 pieces.

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/** AlgorithmIdentifier for ECDSA with SHA-256: parameters absent (RFC 5758). */
const ECDSA_SHA256 = seq(oid(OID.ecdsaWithSha256));

/** Name: one RDN per attribute, values as UTF8String. */
function name(attrs: [string, string][]): Uint8Array {
  return seq(...attrs.map(([type, value]) => set(seq(oid(type), utf8(value)))));
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));
}

function ipv4(text: string): Uint8Array {
  const parts = text.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`demo PKI: not an IPv4 address: ${text}`);
  }
  return Uint8Array.from(parts);
}

/** SubjectKeyIdentifier, RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: "jwk" });
  const point = concat([Uint8Array.of(0x04), b64url(jwk.x!), b64url(jwk.y!)]);
  return new Uint8Array(createHash("sha1").update(point).digest());
}
const b64url = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));

interface CertSpec {
  issuer: Uint8Array;
  subject: Uint8Array;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions: Uint8Array[];
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } */
function certificate(spec: CertSpec): Uint8Array {
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x40; // positive, and exactly 16 bytes
  const tbs = seq(
    explicit(0, integer(Uint8Array.of(2))), // version v3
    integer(serial),
    ECDSA_SHA256,
    spec.issuer,
    seq(time(spec.notBefore), time(spec.notAfter)),
    spec.subject,
    new Uint8Array(spec.publicKey.export({ type: "spki", format: "der" })),
    explicit(3, seq(...spec.extensions)),
  );
  const signature = sign("sha256", tbs, { key: spec.signingKey, dsaEncoding: "der" });
  return seq(tbs, ECDSA_SHA256, bitString(new Uint8Array(signature)));
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, "$&\n")}-----END ${label}-----\n`;
}

/** `sha256/BASE64` of a public key's DER SubjectPublicKeyInfo (standard padded base64). */
export function spkiPin(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: "spki", format: "der" });
  return "sha256/" + createHash("sha256").update(spki).digest("base64");
}

/** Makes a fresh CA and a server certificate signed by it (a few milliseconds). */
export function generateDemoPki(options: DemoPkiOptions = {}): DemoPki {
  const dns = options.dns ?? ["localhost"];
  const ip = options.ip ?? ["127.0.0.1"];
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + (options.days ?? 7) * 24 * 60 * 60 * 1000);

  const caKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const leafKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caKeyId = keyIdentifier(caKeys.publicKey);
  // A random suffix keeps two demo CAs apart (a client trusting an old one fails clearly).
  const caName = name([
    [OID.organization, "mailplan demo"],
    [OID.commonName, `mailplan demo CA ${randomBytes(4).toString("hex")}`],
  ]);

  const ca = certificate({
    issuer: caName,
    subject: caName,
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, seq(TRUE, integer(Uint8Array.of(0)))), // CA, pathLen 0
      extension(OID.keyUsage, true, namedBits([5, 6])), // keyCertSign, cRLSign
      extension(OID.subjectKeyIdentifier, false, octets(caKeyId)),
    ],
  });

  const sans = [
    ...dns.map((d) => tlv(0x82, ascii(d))), // [2] dNSName (IA5String)
    ...ip.map((a) => tlv(0x87, ipv4(a))), // [7] iPAddress
  ];
  const leaf = certificate({
    issuer: caName,
    subject: name([[OID.organization, "mailplan demo"], [OID.commonName, dns[0] ?? ip[0]]]),
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    notAfter,
    extensions: [
      extension(OID.basicConstraints, true, seq()), // CA:FALSE (the DEFAULT, so an empty SEQUENCE)
      extension(OID.keyUsage, true, namedBits([0])), // digitalSignature
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, seq(...sans)),
      extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(leafKeys.publicKey))),
      extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, caKeyId))), // [0] keyIdentifier
    ],
  });

  return {
    ca: pem("CERTIFICATE", ca),
    cert: pem("CERTIFICATE", leaf),
    key: String(leafKeys.privateKey.export({ type: "pkcs8", format: "pem" })),
    pin: spkiPin(leafKeys.publicKey),
    names: { dns: [...dns], ip: [...ip] },
    notBefore,
    notAfter,
  };
}
