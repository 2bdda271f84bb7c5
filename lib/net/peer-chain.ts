/**
 * The one walk of a `node:tls` peer chain (`getPeerCertificate(true)` → `issuerCertificate` …),
 * shared by the node-tls adapter and `probe`: leaf first, each certificate once (a self-issued
 * root points at itself), at most 16, DER copied out of the runtime's buffers.
 *
 * ```ts
 * const ders = peerDer(tlsSocket); // [leafDer, intermediateDer, …] or null before a handshake
 * ```
 */
import type * as tls from "node:tls";

/**
 * DER of the peer chain, leaf first; null when the runtime shows no peer certificate.
 *
 * @example
 * peerDer(socket)?.length; // 2 for a leaf sent with its intermediate
 */
export function peerDer(sock: Pick<tls.TLSSocket, "getPeerCertificate">): Uint8Array[] | null {
  let cert = sock.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  if (!cert || !(cert as { raw?: unknown }).raw) return null;
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  while (cert && cert.raw && out.length < 16) {
    const fp = cert.fingerprint256 ?? String(out.length);
    if (seen.has(fp)) break;
    seen.add(fp);
    out.push(new Uint8Array(cert.raw.buffer, cert.raw.byteOffset, cert.raw.byteLength).slice());
    cert = cert.issuerCertificate;
  }
  return out;
}
