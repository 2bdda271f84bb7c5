/**
 * `probe` as a function: ports probed in parallel, verdicts, relay comparison, suggested relay.
 * Returns the report (types.ts); the caller decides the exit status (see {@link exitStatus}).
 *
 * ```ts
 * const report = await probe({ host: "smtp.example.com" });            // 465, 587 and 25
 * const one = await probe({ host: "127.0.0.1", ports: [2525], caFile: "./ca.pem", timeoutMs: 2000 });
 * ```
 * @module
 */
import { readFileSync } from "node:fs";
import { defaultHelo } from "../net/helo.ts";
import { MailplanError } from "../codes.ts";
import { compareRelay } from "./compare.ts";
import { type PortProbe, probePort } from "./port.ts";
import type { ConfiguredRelay, Finding, ProbeReport } from "./types.ts";
import { portFindings } from "./verdicts.ts";
import { relayNameFor, suggestRelay } from "./yaml.ts";

/** Ports probed when none is given: implicit TLS, submission, relay. */
export const DEFAULT_PORTS: readonly number[] = [465, 587, 25];

/** What to probe and how. */
export interface ProbeOptions {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  /** Default: the relay's port, else {@link DEFAULT_PORTS}. */
  ports?: number[];
  /** Compare with this relay (host, ca, server_name, pins… come from it). */
  relay?: ConfiguredRelay;
  /** Extra trust anchors (PEM file) to judge the chain with; the relay's `ca` wins. */
  caFile?: string;
  /** Name checked against the certificate (default: the relay's server_name, else the host). */
  serverName?: string;
  /** Deadline of each step (connect, reply, handshake). Default 5000. */
  timeoutMs?: number;
  /** Wait for a plaintext greeting before trying TLS. Default: a third of the timeout, 300 ms–2 s. */
  greetWaitMs?: number;
  helo?: string;
  now?: Date;
}

function readCa(path: string, what: string): string {
  try {
    const pem = readFileSync(path, "utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no certificate");
    return pem;
  } catch {
    throw new MailplanError(what === "relay" ? "CONFIG_INVALID" : "USAGE", `The CA file ${path} cannot be read or holds no PEM certificate.`, what === "relay" ? "security.ca is relative to the config file; run mailplan check" : "pass a PEM file with --ca");
  }
}

/** Probes the target. Never throws for network trouble (it is in the report); throws for unreadable CA files. */
export async function probe(o: ProbeOptions): Promise<ProbeReport> {
  const relay = o.relay ?? null;
  const timeoutMs = o.timeoutMs ?? 5000;
  const greetWaitMs = o.greetWaitMs ?? Math.min(2000, Math.max(300, Math.round(timeoutMs / 3)));
  const ports = o.ports ?? (relay ? [relay.port] : [...DEFAULT_PORTS]);
  const name = o.serverName ?? relay?.server_name ?? o.host;
  const caFile = relay?.caPath ?? o.caFile ?? null;
  const caShown = relay?.ca ?? o.caFile ?? null;
  const ca = caFile ? { pem: readCa(caFile, relay?.caPath ? "relay" : "flag"), file: caShown! } : undefined;
  const now = o.now ?? new Date();
  const helo = o.helo ?? relay?.helo ?? defaultHelo();

  const probes: PortProbe[] = await Promise.all(
    ports.map((port) => probePort(o.host, port, { name, helo, timeoutMs, greetWaitMs, ca, now })),
  );
  const works = probes.filter((p) => p.report.mode === "plaintext" || p.report.mode === "implicit");
  const findings: Finding[] = [];
  for (const p of probes) {
    findings.push(...portFindings(p, {
      caFile: caShown,
      relay,
      onlyPort: ports.length === 1,
      otherPortWorks: works.some((w) => w !== p),
    }));
  }
  if (relay) {
    const mine = probes.find((p) => p.report.port === relay.port)?.report ?? null;
    findings.push(...compareRelay(relay, mine, ports));
  }

  // The suggestion: the relay's port, else the best working port (TLS that verifies first).
  const score = (p: PortProbe) =>
    (p.report.tls ? 4 : 0) + (p.report.tls && !p.report.tls.chainProblem && p.report.tls.name.matches ? 2 : 0) +
    (p.report.error ? 0 : 1);
  const chosen = relay
    ? probes.find((p) => p.report.port === relay.port)
    : [...works].sort((a, b) => score(b) - score(a))[0];
  const suggestion = chosen
    ? suggestRelay({
      host: o.host,
      name: relay?.name ?? relayNameFor(o.host),
      port: chosen.report,
      caValue: caShown,
      anchoredInCa: chosen.analysis?.anchoredInCa ?? false,
      relay,
    })
    : null;

  const problems = findings.filter((f) => f.severity !== "info");
  return {
    probe: 1,
    ok: problems.length === 0,
    host: o.host,
    name,
    ca: caShown,
    relay: relay
      ? {
        name: relay.name,
        file: relay.file,
        host: relay.host,
        port: relay.port,
        strategy: relay.strategy,
        helo: relay.helo,
        tls: relay.tls,
        min_tls: relay.min_tls,
        verify: relay.verify,
        ca: relay.ca,
        pin: relay.pin,
        server_name: relay.server_name,
        auth: relay.auth ? { mechanism: relay.auth.mechanism } : null,
      }
      : null,
    ports: probes.map((p) => p.report),
    problems,
    notes: findings.filter((f) => f.severity === "info"),
    suggestion,
  };
}

/** Exit status of a report: 0 no problem, 1 problems, 69 nothing reachable. */
export function exitStatus(report: ProbeReport): number {
  if (report.ports.every((p) => p.mode === "closed")) return 69;
  return report.ok ? 0 : 1;
}
