/**
 * Certificate chain analysis: the chain as received → facts (subject, SANs, issuer, validity,
 * days left, SPKI pin), whether it leads to a given `ca` (signatures checked here with
 * `node:crypto`, so dates and names are judged separately and the same way on every runtime),
 * whether the name is covered, and what is wrong with it, named (self-signed, missing intermediate…).
 *
 * ```ts
 * const a = analyseChain(ders, { name: "localhost", ca: { pem, file: "ca.pem" }, systemTrusted: false, systemError: null, now: new Date() });
 * a.chainProblem; // "missing-intermediate"
 * ```
 * @module
 */
import { X509Certificate } from "node:crypto";
import { certificateCovers } from "../net/names.ts";
import { subjectAltNamesFromDer } from "../net/x509.ts";
import { peerCertificateFromDer, pemToDer } from "../net/x509.ts";
import type { CertInfo, ChainProblem, TrustResult } from "./types.ts";

const DAY = 86_400_000;

/** Facts of one DER certificate at `now`. */
export function certInfo(der: Uint8Array, now: Date): CertInfo {
  const pc = peerCertificateFromDer(der);
  const x = new X509Certificate(der);
  let selfSigned = false;
  try {
    selfSigned = x.subject === x.issuer && x.verify(x.publicKey); // not checkIssued: a CA:FALSE leaf cannot "issue"
  } catch { /* unsupported key type: leave false */ }
  return {
    subject: pc.subject,
    issuer: pc.issuer,
    subjectAltNames: pc.subjectAltNames,
    validFrom: pc.validFrom,
    validTo: pc.validTo,
    daysLeft: Math.floor((Date.parse(pc.validTo) - now.getTime()) / DAY),
    selfSigned,
    fingerprint256: pc.fingerprint256,
    spkiPin: pc.spkiPin,
  };
}

function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** True when the sent chain leads, by signatures, from the leaf to one of `anchors`. */
export function chainsTo(sent: Uint8Array[], anchors: Uint8Array[]): boolean {
  if (sent.length === 0 || anchors.length === 0) return false;
  const xs = sent.map((d) => new X509Certificate(d));
  const as = anchors.map((d) => new X509Certificate(d));
  const anchorFps = new Set(as.map((a) => a.fingerprint256));
  let current = xs[0];
  const used = new Set<number>([0]);
  for (let depth = 0; depth < 10; depth++) {
    if (anchorFps.has(current.fingerprint256)) return true;
    if (as.some((a) => issued(a, current))) return true;
    const next = xs.findIndex((c, i) => !used.has(i) && issued(c, current));
    if (next < 0) return false;
    used.add(next);
    current = xs[next];
  }
  return false;
}

/** What the analysis needs besides the chain. */
export interface ChainContext {
  /** The name the certificate must cover (server_name, else the host). */
  name: string;
  /** PEM text of the extra trust anchors (`ca`), when given, and its file. */
  ca?: { pem: string; file: string };
  /** Result of the handshake against the runtime's trust store. */
  systemTrusted: boolean;
  systemError: string | null;
  now: Date;
}

/** The chain judged. */
export interface ChainAnalysis {
  chain: CertInfo[];
  pin: string | null;
  name: { checked: string; matches: boolean };
  trust: { system: TrustResult; ca: (TrustResult & { file: string }) | null };
  chainProblem: ChainProblem | null;
  /** The sent chain leads to `ca` by signatures (dates aside). */
  anchoredInCa: boolean;
  /** The first certificate outside its validity period. */
  outOfDate: CertInfo | null;
}

/** Judges the chain (leaf first, DER, as received). */
export function analyseChain(ders: Uint8Array[], ctx: ChainContext): ChainAnalysis {
  const chain = ders.map((d) => certInfo(d, ctx.now));
  const leaf = chain[0];
  const leafSans = ders[0] ? subjectAltNamesFromDer(ders[0]) : [];
  const t = ctx.now.getTime();
  const outOfDate = chain.find((c) => Date.parse(c.validTo) < t || Date.parse(c.validFrom) > t) ?? null;
  const anchors = ctx.ca ? pemToDer(ctx.ca.pem) : [];
  const anchoredInCa = !!ctx.ca && chainsTo(ders, anchors);
  const anchorSubjects = new Set(anchors.map((a) => new X509Certificate(a).subject.split("\n").join(", ")));

  let chainProblem: ChainProblem | null = null;
  const trustedSomewhere = ctx.systemTrusted || anchoredInCa;
  if (leaf && outOfDate) chainProblem = Date.parse(outOfDate.validFrom) > t ? "not-yet-valid" : "expired";
  else if (leaf?.selfSigned && chain.length === 1 && !trustedSomewhere) chainProblem = "self-signed";
  // Only the leaf, issuer unknown: without `ca` the chain alone cannot tell a private root from a
  // missing intermediate ("untrusted", worded as both); judged against a `ca` that does not hold
  // the issuer, the server must be leaving out the intermediate.
  else if (leaf && !trustedSomewhere && chain.length === 1 && !leaf.selfSigned && ctx.ca && !anchorSubjects.has(leaf.issuer)) {
    chainProblem = "missing-intermediate";
  } else if (leaf && !trustedSomewhere) chainProblem = "untrusted";

  const why = (anchored: boolean, where: string): string | null => {
    if (anchored && !outOfDate) return null;
    if (outOfDate) {
      return Date.parse(outOfDate.validFrom) > t
        ? `${outOfDate.subject} is not valid before ${outOfDate.validFrom}`
        : `${outOfDate.subject} expired on ${outOfDate.validTo}`;
    }
    if (!leaf) return "no certificate was received";
    if (leaf.selfSigned && chain.length === 1) return `the certificate is self-signed and not in ${where}`;
    if (chain.length === 1) return `only the leaf was sent; its issuer "${leaf.issuer}" is not in ${where}`;
    return `the chain does not lead to ${where} (top issuer: ${chain[chain.length - 1].issuer})`;
  };
  const systemTrusted = ctx.systemTrusted && !outOfDate;
  return {
    chain,
    pin: leaf?.spkiPin ?? null,
    name: { checked: ctx.name, matches: leaf ? certificateCovers(ctx.name, leafSans) : false },
    trust: {
      system: {
        trusted: systemTrusted,
        reason: systemTrusted ? null : (why(false, "the system trust store") ?? ctx.systemError),
      },
      ca: ctx.ca
        ? { file: ctx.ca.file, trusted: anchoredInCa && !outOfDate, reason: why(anchoredInCa, `the CA file ${ctx.ca.file}`) }
        : null,
    },
    chainProblem,
    anchoredInCa,
    outOfDate,
  };
}
