/**
 * Test PKI generated at test time with the `openssl` CLI (EC P-256, fast), for loopback TLS tests.
 *
 * Works in Bun and Deno (`node:child_process.execFileSync`). The result is cached per process:
 * every caller of {@link makePki} gets the same certificates unless it asks for `fresh: true`.
 * A temp directory it creates is removed when the process exits (files stay valid until then).
 *
 * ```ts
 * import { makePki } from "../support/certs.ts";
 * const pki = makePki();
 * // server: tls.createServer({ key: pki.leaf.key.pem, cert: pki.leaf.chain.pem })
 * // client: { ca: pki.root.cert.pem, serverName: "localhost", pins: [pki.leaf.pin] }
 * ```
 *
 * Layout (every certificate is CA:FALSE unless it is a CA; every server leaf has serverAuth):
 * - `root`          root CA (self-signed)
 * - `intermediate`  CA signed by `root` (pathlen 0)
 * - `leaf`          `localhost`, `127.0.0.1`, `::1`, signed by `intermediate`;
 *                   `leaf.chain` = leaf + intermediate (what a correct server sends),
 *                   `leaf.cert` = the leaf alone (a server that forgets its intermediate)
 * - `selfSigned`    self-signed leaf for `localhost`/`127.0.0.1` (CA:FALSE)
 * - `wrongHost`     leaf for `wrong.example` only, signed by `intermediate` (`chain` includes it)
 * - `expired`       leaf for `localhost`/`127.0.0.1`, signed by `intermediate`, valid 2020-01-01..2021-01-01
 * - `otherCa`       an unrelated root CA (trusting it alone must fail for every leaf above)
 * - `otherLeaf`     leaf for `localhost`/`127.0.0.1` signed directly by `otherCa`
 * - `clientCa`      root CA for client certificates; `client` is a clientAuth leaf it signed
 *
 * Hostile leaves on demand: {@link makeNamedLeaf} issues a leaf (signed by `intermediate`) whose
 * subjectAltName is written byte for byte (a comma, `DNS:` or a NUL inside one dNSName, an IP
 * written as a dNSName…), through openssl's `DER:` extension syntax, so no text parser is involved.
 * {@link makeRsaLeaf} issues an RSA leaf for `localhost`/`127.0.0.1` (static-RSA cipher suites).
 *
 * `pin` fields are `sha256/BASE64` of the DER SubjectPublicKeyInfo (standard padded base64),
 * computed by openssl, independently of the code under test.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PEM text and the file that holds it. */
export interface PemFile {
  /** PEM text (one or more blocks). */
  pem: string;
  /** Absolute path of a file with exactly that text. */
  path: string;
}

/** A certificate with its private key. */
export interface CertKey {
  /** The certificate alone. */
  cert: PemFile;
  /** Its private key (PKCS#8 PEM, EC P-256). */
  key: PemFile;
  /** `sha256/BASE64` pin of the certificate's SubjectPublicKeyInfo. */
  pin: string;
}

/** A server certificate: the leaf alone in `cert`, leaf + issuing intermediate in `chain`. */
export interface ServerCert extends CertKey {
  /** Leaf followed by its intermediate: what a correctly configured server sends. */
  chain: PemFile;
}

/** The whole test PKI. See the module doc for what each member is for. */
export interface Pki {
  /** Temporary directory holding every file. */
  dir: string;
  root: CertKey;
  intermediate: CertKey;
  leaf: ServerCert;
  selfSigned: CertKey;
  wrongHost: ServerCert;
  expired: ServerCert;
  otherCa: CertKey;
  otherLeaf: CertKey;
  clientCa: CertKey;
  client: CertKey;
}

/** Options of {@link makePki}. */
export interface PkiOptions {
  /** Generate a new PKI instead of returning the per-process cached one. */
  fresh?: boolean;
  /** Directory to write into (default: a new temp directory). */
  dir?: string;
}

let cached: Pki | undefined;

/**
 * Returns the test PKI, generating it on first use (about 20 openssl calls, ~100 ms).
 * Synchronous; throws with openssl's stderr when generation fails.
 */
export function makePki(opts: PkiOptions = {}): Pki {
  if (cached && !opts.fresh && !opts.dir) return cached;
  let dir = opts.dir;
  if (!dir) {
    const tmp = (dir = mkdtempSync(join(tmpdir(), "mailplan-pki-")));
    const cleanup = () => rmSync(tmp, { recursive: true, force: true }); // files live as long as the process
    process.once("exit", cleanup);
    // `deno test` does not emit node's "exit"; Deno dispatches "unload" on globalThis instead.
    if ("Deno" in globalThis) globalThis.addEventListener("unload", cleanup);
  }
  const pki = generate(dir);
  if (!opts.dir) cached = pki;
  return pki;
}

function openssl(args: string[], cwd: string): string {
  try {
    return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${err.stderr || err.message}`);
  }
}

function generate(dir: string): Pki {
  const p = (name: string) => join(dir, name);
  const file = (name: string): PemFile => ({ path: p(name), pem: readFileSync(p(name), "utf8") });
  const write = (name: string, text: string): PemFile => {
    writeFileSync(p(name), text);
    return { path: p(name), pem: text };
  };

  writeFileSync(
    p("ext.cnf"),
    [
      "[req]",
      "distinguished_name = dn",
      "[dn]",
      "[ca]",
      "basicConstraints = critical, CA:TRUE",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "[intermediate]",
      "basicConstraints = critical, CA:TRUE, pathlen:0",
      "keyUsage = critical, keyCertSign, cRLSign",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "[server]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "[selfsigned]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1",
      "[wronghost]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = DNS:wrong.example",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "[rsaserver]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature, keyEncipherment",
      "extendedKeyUsage = serverAuth",
      "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1",
      "[client]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = clientAuth",
      "subjectKeyIdentifier = hash",
      "authorityKeyIdentifier = keyid",
      "",
    ].join("\n"),
  );

  const key = (name: string) => {
    openssl(
      ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`],
      dir,
    );
  };
  const pin = (name: string): string => {
    // cert → public key (SPKI PEM) → DER → sha256 → base64
    const pub = openssl(["x509", "-in", `${name}.crt`, "-noout", "-pubkey"], dir);
    writeFileSync(p(`${name}.pub.pem`), pub);
    openssl(["pkey", "-pubin", "-in", `${name}.pub.pem`, "-outform", "DER", "-out", `${name}.spki.der`], dir);
    openssl(["dgst", "-sha256", "-binary", "-out", `${name}.spki.sha256`, `${name}.spki.der`], dir);
    return "sha256/" + readFileSync(p(`${name}.spki.sha256`)).toString("base64");
  };
  const certKey = (name: string): CertKey => ({
    cert: file(`${name}.crt`),
    key: file(`${name}.key`),
    pin: pin(name),
  });
  const selfSign = (name: string, cn: string, ext: string) => {
    key(name);
    openssl(
      [
        "req",
        "-x509",
        "-new",
        "-key",
        `${name}.key`,
        "-subj",
        `/CN=${cn}`,
        "-days",
        "3650",
        "-sha256",
        "-config",
        "ext.cnf",
        "-extensions",
        ext,
        "-set_serial",
        serial(),
        "-out",
        `${name}.crt`,
      ],
      dir,
    );
    return certKey(name);
  };
  const sign = (name: string, cn: string, ext: string, ca: string) => {
    key(name);
    openssl(["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`], dir);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${ca}.crt`,
        "-CAkey",
        `${ca}.key`,
        "-set_serial",
        serial(),
        "-days",
        "3650",
        "-sha256",
        "-extfile",
        "ext.cnf",
        "-extensions",
        ext,
        "-out",
        `${name}.crt`,
      ],
      dir,
    );
    return certKey(name);
  };
  const withChain = (ck: CertKey, name: string, ...issuers: CertKey[]): ServerCert => ({
    ...ck,
    chain: write(`${name}.chain.pem`, [ck.cert.pem, ...issuers.map((i) => i.cert.pem)].join("")),
  });

  const root = selfSign("root", "mailplan test root CA", "ca");
  const intermediate = sign("intermediate", "mailplan test intermediate CA", "intermediate", "root");
  const leaf = withChain(sign("leaf", "localhost", "server", "intermediate"), "leaf", intermediate);
  const selfSigned = selfSign("selfsigned", "localhost", "selfsigned");
  const wrongHost = withChain(
    sign("wronghost", "wrong.example", "wronghost", "intermediate"),
    "wronghost",
    intermediate,
  );
  const otherCa = selfSign("otherca", "mailplan unrelated CA", "ca");
  const otherLeaf = sign("otherleaf", "localhost", "server", "otherca");
  const clientCa = selfSign("clientca", "mailplan test client CA", "ca");
  const client = sign("client", "mailplan test client", "client", "clientca");

  // Expired leaf: `openssl ca` is the only 3.0-era CLI that sets explicit past dates.
  key("expired");
  openssl(["req", "-new", "-key", "expired.key", "-subj", "/CN=localhost", "-out", "expired.csr"], dir);
  writeFileSync(p("index.txt"), "");
  writeFileSync(
    p("ca.cnf"),
    [
      "[ca]",
      "default_ca = testca",
      "[testca]",
      `dir = ${dir}`,
      "database = $dir/index.txt",
      "new_certs_dir = $dir",
      "serial = $dir/serial",
      "certificate = $dir/intermediate.crt",
      "private_key = $dir/intermediate.key",
      "default_md = sha256",
      "policy = anything",
      "unique_subject = no",
      "email_in_dn = no",
      "[anything]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  writeFileSync(p("serial"), "1000\n");
  openssl(
    [
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-notext",
      "-in",
      "expired.csr",
      "-out",
      "expired.crt",
      "-startdate",
      "20200101000000Z",
      "-enddate",
      "20210101000000Z",
      "-extfile",
      "ext.cnf",
      "-extensions",
      "server",
    ],
    dir,
  );
  const expired = withChain(certKey("expired"), "expired", intermediate);

  return {
    dir,
    root,
    intermediate,
    leaf,
    selfSigned,
    wrongHost,
    expired,
    otherCa,
    otherLeaf,
    clientCa,
    client,
  };
}

/** One subjectAltName entry: a dNSName with these exact bytes (Latin-1), or an iPAddress. */
export type SanSpec = { dns: string } | { ip: string };

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return [0x80 | out.length, ...out];
}

function ipOctets(ip: string): number[] {
  if (ip.includes(".")) return ip.split(".").map(Number);
  const [h, t = ""] = ip.split("::");
  const hs = h ? h.split(":") : [];
  const ts = t ? t.split(":") : [];
  const groups = ip.includes("::") ? [...hs, ...Array(8 - hs.length - ts.length).fill("0"), ...ts] : hs;
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

/** GeneralNames DER as openssl's `DER:AA:BB…` text. */
function sanDer(sans: SanSpec[]): string {
  const body = sans.flatMap((s) => {
    const bytes = "dns" in s ? Array.from(s.dns, (c) => c.charCodeAt(0) & 0xff) : ipOctets(s.ip);
    return ["dns" in s ? 0x82 : 0x87, ...derLength(bytes.length), ...bytes];
  });
  const all = [0x30, ...derLength(body.length), ...body];
  return "DER:" + all.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

const namedCache = new Map<string, ServerCert>();

/**
 * A leaf signed by the test PKI's `intermediate` (so it chains to `root`) whose subjectAltName
 * holds exactly `sans`, and CN `cn` (default `localhost`: a CN fallback would match, so a test
 * proves there is none). Cached per (sans, cn) for the process. `chain` = leaf + intermediate.
 *
 * @example
 * const evil = makeNamedLeaf([{ dns: "evil.example, DNS:localhost" }]);
 */
export function makeNamedLeaf(sans: SanSpec[], cn = "localhost"): ServerCert {
  const key = JSON.stringify([sans, cn]);
  const hit = namedCache.get(key);
  if (hit) return hit;
  const pki = makePki();
  const dir = pki.dir;
  const name = `named${namedCache.size}`;
  writeFileSync(
    join(dir, `${name}.cnf`),
    [
      "[x]",
      "basicConstraints = critical, CA:FALSE",
      "keyUsage = critical, digitalSignature",
      "extendedKeyUsage = serverAuth",
      ...(sans.length ? [`subjectAltName = ${sanDer(sans)}`] : []),
      "",
    ].join("\n"),
  );
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`], dir);
  openssl(["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`], dir);
  openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", "intermediate.crt", "-CAkey", "intermediate.key", "-set_serial",
      serial(), "-days", "3650", "-sha256", "-extfile", `${name}.cnf`, "-extensions", "x", "-out", `${name}.crt`],
    dir,
  );
  const cert: PemFile = { path: join(dir, `${name}.crt`), pem: readFileSync(join(dir, `${name}.crt`), "utf8") };
  const chainPem = cert.pem + pki.intermediate.cert.pem;
  writeFileSync(join(dir, `${name}.chain.pem`), chainPem);
  const out: ServerCert = {
    cert,
    key: { path: join(dir, `${name}.key`), pem: readFileSync(join(dir, `${name}.key`), "utf8") },
    pin: "",
    chain: { path: join(dir, `${name}.chain.pem`), pem: chainPem },
  };
  namedCache.set(key, out);
  return out;
}

let rsaLeaf: ServerCert | undefined;

/** An RSA-2048 leaf for `localhost`/`127.0.0.1`/`::1`, signed by `intermediate` (cached). */
export function makeRsaLeaf(): ServerCert {
  if (rsaLeaf) return rsaLeaf;
  const pki = makePki();
  const dir = pki.dir;
  openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsaleaf.key"], dir);
  openssl(["req", "-new", "-key", "rsaleaf.key", "-subj", "/CN=localhost", "-out", "rsaleaf.csr"], dir);
  openssl(
    ["x509", "-req", "-in", "rsaleaf.csr", "-CA", "intermediate.crt", "-CAkey", "intermediate.key", "-set_serial",
      serial(), "-days", "3650", "-sha256", "-extfile", "ext.cnf", "-extensions", "rsaserver", "-out", "rsaleaf.crt"],
    dir,
  );
  const cert: PemFile = { path: join(dir, "rsaleaf.crt"), pem: readFileSync(join(dir, "rsaleaf.crt"), "utf8") };
  const chainPem = cert.pem + pki.intermediate.cert.pem;
  writeFileSync(join(dir, "rsaleaf.chain.pem"), chainPem);
  rsaLeaf = {
    cert,
    key: { path: join(dir, "rsaleaf.key"), pem: readFileSync(join(dir, "rsaleaf.key"), "utf8") },
    pin: "",
    chain: { path: join(dir, "rsaleaf.chain.pem"), pem: chainPem },
  };
  return rsaLeaf;
}

let serialCounter = 0;
function serial(): string {
  // Distinct, random-ish positive serials so no two certificates of any run collide in a cache.
  serialCounter++;
  const rnd = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, "0");
  return "0x" + (serialCounter.toString(16).padStart(4, "0") + Date.now().toString(16) + rnd);
}
