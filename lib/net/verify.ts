/**
 * The one decision on a finished TLS handshake, shared by every adapter: an adapter reports
 * what the runtime saw ({@link RawHandshake}: chain verdict, version, cipher, peer DER) and
 * {@link decideSession} decides, in order: chain trust, certificate names (names.ts, from the
 * DER), minimum version, SPKI pins. The session is used only if it returns `{ facts }`; an
 * adapter never writes a byte to the peer before that.
 *
 * Trust rule for `security.ca` (the same on every adapter, README `.security.ca`): `ca` ADDS
 * trust anchors to the runtime's default store (bundled/system roots plus NODE_EXTRA_CA_CERTS);
 * it does not replace them. Deno's native TLS can only add (`caCerts`), so the rule is the one
 * every runtime can keep; to accept only one key, use `security.pin`. {@link trustAnchors}
 * builds the list for the adapters whose runtime would otherwise replace.
 *
 * ```ts
 * const d = decideSession(raw, opts, ctx);
 * if ("error" in d) { abort(); throw d.error; } else use(d.facts);
 * ```
 */
import * as tls from "node:tls";
import type { AdapterName, PeerCertificate, TlsFacts, TlsOptions } from "./conn.ts";
import { classifyTlsError, type TlsContext } from "./classify.ts";
import { NetError, unsupported } from "./errors.ts";
import { certificateCovers } from "./names.ts";
import { peerCertificateFromDer } from "./x509.ts";

/** What an adapter's runtime reports about a completed handshake, undecided. */
export interface RawHandshake {
  adapter: AdapterName;
  mode: "implicit" | "starttls";
  /** `TLSv1.2` / `TLSv1.3`; null when the runtime does not expose it. */
  version: string | null;
  cipher: string | null;
  /** The runtime's chain verdict against the trust anchors (names NOT included). */
  chainTrusted: boolean;
  /** The runtime's reason when `chainTrusted` is false (code or message). */
  chainError: string | null;
  /** DER of the peer chain, leaf first; null when the runtime hides it. */
  peerDer: Uint8Array[] | null;
  /** The runtime itself refused wrong names before reporting (Deno native: rustls). Only then
   * may `peerDer` be null with verification on. */
  namesCheckedByRuntime: boolean;
}

const VERSION_RANK: Record<string, number> = { "TLSv1": 10, "TLSv1.1": 11, "TLSv1.2": 12, "TLSv1.3": 13 };

/**
 * Checks the leaf's SPKI pin against `pins` (`sha256/BASE64`). Returns null when it matches or
 * `pins` is empty; a CERT_PIN_MISMATCH NetError otherwise, or a TLS_HANDSHAKE_FAILED one when the
 * adapter cannot see the peer certificate.
 *
 * @example
 * checkPins(["sha256/…"], facts)?.code; // "CERT_PIN_MISMATCH" when no pin matches
 */
export function checkPins(
  pins: readonly string[] | undefined,
  facts: Pick<TlsFacts, "peerChain" | "adapter">,
): NetError | null {
  if (!pins || pins.length === 0) return null;
  const leaf = facts.peerChain?.[0];
  if (!leaf) {
    return unsupported(
      facts.adapter,
      "check security.pin: it does not expose the peer certificate",
      "use the node-tls adapter, or remove security.pin",
    );
  }
  if (pins.some((p) => p.trim() === leaf.spkiPin)) return null;
  return new NetError(
    "CERT_PIN_MISMATCH",
    `The server's public key (${leaf.spkiPin}) matches none of the configured pins.`,
    {
      phase: "tls",
      hint: `if the server's key was rotated on purpose, add "${leaf.spkiPin}" to security.pin`,
    },
  );
}

const where = (c: TlsContext) => `${c.host.includes(":") ? `[${c.host}]` : c.host}:${c.port}`;

/**
 * Every post-handshake check on decided facts, in order: verification (unless `verify: false`),
 * minimum version, pins. Returns the first failure, or null when the session may be used.
 *
 * @example
 * checkSession({ ...facts, version: "TLSv1.1" }, {}, ctx)?.code; // "TLS_VERSION_TOO_LOW"
 */
export function checkSession(facts: TlsFacts, opts: TlsOptions, ctx: TlsContext): NetError | null {
  if (opts.verify !== false && !facts.authorized) {
    return classifyTlsError(facts.authorizationError ?? "certificate verify failed", {
      ...ctx,
      peerChain: facts.peerChain,
    });
  }
  const min = opts.minVersion ?? "1.2";
  if (facts.version !== null && (VERSION_RANK[facts.version] ?? 0) < (min === "1.3" ? 13 : 12)) {
    return new NetError(
      "TLS_VERSION_TOO_LOW",
      `The server at ${where(ctx)} negotiated ${facts.version}, below min_tls "${min}".`,
      {
        phase: "tls",
        hint: min === "1.3" ? 'upgrade the server, or set security.min_tls: "1.2"' : "upgrade the server's TLS",
      },
    );
  }
  return checkPins(opts.pins, facts);
}

/**
 * Decides a handshake: the facts to keep, or the error to fail closed with. Names come from the
 * leaf's DER through {@link certificateCovers}, whatever the runtime concluded about them.
 *
 * @example
 * const d = decideSession(raw, { serverName: "localhost" }, ctx); // { facts } | { error }
 */
export function decideSession(
  raw: RawHandshake,
  opts: TlsOptions,
  ctx: TlsContext,
): { facts: TlsFacts; ctx: TlsContext } | { error: NetError } {
  const chain: PeerCertificate[] | null = raw.peerDer ? raw.peerDer.map((d) => peerCertificateFromDer(d)) : null;
  const leaf = chain?.[0];
  // A runtime's own name verdict is ignored: names are decided below, from the DER.
  const namesOnly = !raw.chainTrusted && /ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH/i.test(raw.chainError ?? "");
  let authorized = raw.chainTrusted || namesOnly;
  let authorizationError = authorized ? null : (raw.chainError || "certificate verify failed");
  if (authorized && !raw.namesCheckedByRuntime && (!leaf || !certificateCovers(ctx.name, leaf.sans))) {
    authorized = false;
    authorizationError = "ERR_TLS_CERT_ALTNAME_INVALID";
  }
  const facts: TlsFacts = {
    adapter: raw.adapter,
    version: raw.version,
    cipher: raw.cipher,
    authorized,
    authorizationError,
    peerChain: chain,
    mode: raw.mode,
  };
  const decided = { ...ctx, peerChain: chain };
  const failure = checkSession(facts, opts, decided);
  return failure ? { error: failure } : { facts, ctx: decided };
}

let defaults: readonly string[] | undefined;

/** The runtime's default roots (bundled + NODE_EXTRA_CA_CERTS), PEM. */
function defaultRoots(): readonly string[] {
  if (!defaults) {
    const get = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
    defaults = get ? get("default") : tls.rootCertificates;
  }
  return defaults;
}

/**
 * The `ca` option for runtimes where `ca` replaces the default store (Bun, node:tls): the
 * default roots plus `ca`. Absent `ca` → undefined (the runtime's own default).
 *
 * @example
 * trustAnchors(pem)?.length; // default roots + 1
 */
export function trustAnchors(ca: string | string[] | undefined): string[] | undefined {
  if (ca === undefined) return undefined;
  return [...defaultRoots(), ...(Array.isArray(ca) ? ca : [ca])];
}
