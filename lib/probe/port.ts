/**
 * Probes one port: mode, greeting, EHLO before TLS, STARTTLS, the handshake (system store),
 * EHLO after TLS, QUIT; then one more handshake on a new connection to learn whether the other
 * TLS version (1.2 or 1.3) is accepted too. Never throws: every failure lands in `report.error`.
 *
 * ```ts
 * const p = await probePort("127.0.0.1", 587, { name: "localhost", helo: "me.example", timeoutMs: 5000, greetWaitMs: 1500, now: new Date() });
 * p.report.mode; // "plaintext"
 * ```
 * @module
 */
import type * as net from "node:net";
import { type Capabilities, parseCapabilities } from "../smtp/capabilities.ts";
import type { Reply } from "../smtp/reply.ts";
import { analyseChain, type ChainAnalysis } from "./chain.ts";
import { handshake, type HandshakeOk, type HandshakeOptions, type HandshakeResult } from "./handshake.ts";
import { detectMode } from "./mode.ts";
import { scanOffer } from "./offer.ts";
import { capabilityDiff, capabilityLines, serviceFacts } from "./service.ts";
import type { FindingCode, PortReport } from "./types.ts";
import { connectTcp, ProbeFailure, Wire } from "./wire.ts";

/** Per-port settings. */
export interface PortOptions {
  /** Name checked against the certificate, and SNI. */
  name: string;
  /** EHLO name. */
  helo: string;
  timeoutMs: number;
  greetWaitMs: number;
  /** Extra trust anchors to judge the chain against. */
  ca?: { pem: string; file: string };
  now: Date;
}

/** The report of a port plus the chain analysis the verdicts need. */
export interface PortProbe {
  report: PortReport;
  analysis: ChainAnalysis | null;
}

const text = (r: Reply) => r.lines.join("\n");

function handshakeError(hs: Exclude<HandshakeResult, HandshakeOk>, mode: "implicit" | "starttls"): { code: FindingCode; message: string } {
  switch (hs.kind) {
    case "version":
      return { code: "TLS_VERSION_TOO_LOW", message: `The server refused TLS 1.2 and 1.3 (${hs.detail}).` };
    case "plaintext":
      return {
        code: "TLS_HANDSHAKE_FAILED",
        message: mode === "starttls" ? "The server accepted STARTTLS but then did not speak TLS." : `The server did not answer in TLS (${hs.detail}).`,
      };
    case "timeout":
      return { code: "TIMEOUT", message: `The TLS handshake did not finish (${hs.detail}).` };
    case "cipher":
      return { code: "TLS_HANDSHAKE_FAILED", message: `The server refused the TLS handshake: it offers no cipher in common with mailplan (${hs.detail}).` };
    default:
      return { code: "TLS_HANDSHAKE_FAILED", message: `The TLS handshake failed: ${hs.detail}.` };
  }
}

async function ehlo(wire: Wire, helo: string, ms: number): Promise<{ caps: Capabilities | null; reply: Reply }> {
  await wire.send(`EHLO ${helo}\r\n`);
  const reply = await wire.reply(ms, "a reply to EHLO");
  return { caps: reply.code === 250 ? parseCapabilities(reply) : null, reply };
}

/** A new connection in the known mode, ready for a ClientHello (after STARTTLS when needed); null when not. */
async function openForTls(host: string, port: number, mode: "implicit" | "starttls", o: PortOptions): Promise<net.Socket | null> {
  let wire: Wire | null = null;
  try {
    const sock = await connectTcp(host, port, o.timeoutMs);
    if (mode === "starttls") {
      wire = new Wire(sock);
      if ((await wire.reply(o.timeoutMs, "a greeting")).code !== 220) return wire.close(), null;
      if (!(await ehlo(wire, o.helo, o.timeoutMs)).caps) return wire.close(), null;
      await wire.send("STARTTLS\r\n");
      if ((await wire.reply(o.timeoutMs, "a reply to STARTTLS")).code !== 220 || wire.buffered > 0) return wire.close(), null;
      wire.release();
    }
    return sock;
  } catch {
    wire?.close();
    return null;
  }
}

/**
 * Opens a new connection in the known mode and runs one handshake with `extra` settings (used for
 * the version checks), then says QUIT politely. Resolves null when the port could not be reached.
 */
async function extraHandshake(host: string, port: number, mode: "implicit" | "starttls", o: PortOptions & { greeted: boolean }, extra: Partial<HandshakeOptions>): Promise<HandshakeResult | null> {
  const sock = await openForTls(host, port, mode, o);
  if (!sock) return null;
  try {
    const hs = await handshake(sock, { host, port, name: o.name, timeoutMs: o.timeoutMs, ...extra });
    if (hs.ok) {
      const tw = new Wire(hs.socket);
      if (mode === "implicit" && o.greeted) await tw.reply(Math.min(o.timeoutMs, 2000), "a greeting").catch(() => null);
      await tw.quit(500);
    }
    return hs;
  } catch {
    sock.destroy();
    return null;
  }
}

/** Probes `host:port`. */
export async function probePort(host: string, port: number, o: PortOptions): Promise<PortProbe> {
  const report: PortReport = {
    port,
    mode: "closed",
    detail: "",
    error: null,
    greeting: null,
    starttls: null,
    ehlo: { beforeTls: null, afterTls: null, addedByTls: [], removedByTls: [] },
    service: null,
    tls: null,
  };
  let analysis: ChainAnalysis | null = null;
  // The first failure wins; a closed connection is the contract's PROTOCOL_ERROR.
  const fail = (code: FindingCode | "CONNECTION_CLOSED", message: string) => {
    report.error ??= { code: code === "CONNECTION_CLOSED" ? "PROTOCOL_ERROR" : code, message };
  };
  const d = await detectMode(host, port, { name: o.name, greetWaitMs: o.greetWaitMs, timeoutMs: o.timeoutMs });
  report.mode = d.mode;
  report.detail = d.detail;
  if (d.mode === "closed") {
    fail(d.failure.code, d.failure.message);
    return { report, analysis };
  }
  if (d.mode === "silent") {
    fail("SILENT_PORT", `Port ${port} accepted the connection but ${d.detail}.`);
    return { report, analysis };
  }

  let hs: HandshakeResult | null = d.mode === "implicit" ? d.handshake : null;
  let before: Capabilities | null = null;
  let after: Capabilities | null = null;
  let wire: Wire | null = d.mode === "plaintext" ? d.wire : null;
  try {
    if (d.mode === "plaintext") {
      const w = d.wire;
      const greeting = await w.reply(o.timeoutMs, "a greeting");
      report.greeting = { code: greeting.code, text: text(greeting) };
      if (greeting.code !== 220) {
        fail("GREETING_REFUSED", `The server greeted with ${greeting.code} instead of 220: it does not accept mail from here now.`);
        await w.quit();
        return { report, analysis };
      }
      const e = await ehlo(w, o.helo, o.timeoutMs);
      if (!e.caps) {
        fail("EHLO_REFUSED", `The server answered EHLO with ${e.reply.code}: ${text(e.reply)}.`);
        await w.quit();
        return { report, analysis };
      }
      before = e.caps;
      const offered = before.has("STARTTLS");
      report.starttls = { offered, accepted: null };
      if (offered) {
        await w.send("STARTTLS\r\n");
        const r = await w.reply(o.timeoutMs, "a reply to STARTTLS");
        report.starttls.accepted = r.code === 220;
        if (r.code !== 220) {
          fail("STARTTLS_REFUSED", `The server offered STARTTLS but answered it with ${r.code}: ${text(r)}.`);
          await w.quit();
        } else if (w.buffered > 0) {
          fail("STARTTLS_INJECTION", `The server sent ${w.buffered} byte(s) after its STARTTLS reply and before the TLS handshake (response injection).`);
          w.close();
        } else {
          wire = null;
          hs = await handshake(w.release(), { host, port, name: o.name, timeoutMs: o.timeoutMs });
        }
      } else {
        await w.quit();
      }
      wire = null;
    }

    if (hs && !hs.ok) {
      const mode = d.mode === "implicit" ? "implicit" : "starttls";
      const err = handshakeError(hs, mode);
      fail(err.code, err.message);
      // Describe what the server does offer (raw ClientHellos, never a session: offer.ts).
      if (hs.kind === "cipher") report.offer = await scanOffer(() => openForTls(host, port, mode, o), { name: o.name, timeoutMs: o.timeoutMs });
    }
    if (hs?.ok) {
      analysis = analyseChain(hs.chain, {
        name: o.name,
        ca: o.ca,
        systemTrusted: hs.authorized,
        systemError: hs.authorizationError,
        now: o.now,
      });
      report.tls = {
        version: hs.version,
        cipher: hs.cipher,
        accepts: { "TLSv1.3": hs.version === "TLSv1.3" ? true : null, "TLSv1.2": hs.version === "TLSv1.2" ? true : null },
        chain: analysis.chain,
        pin: analysis.pin,
        name: analysis.name,
        trust: analysis.trust,
        chainProblem: analysis.chainProblem,
      };
      const tw = new Wire(hs.socket);
      wire = tw;
      if (d.mode === "implicit") {
        const greeting = await tw.reply(o.timeoutMs, "SMTP greeting after the TLS handshake");
        report.greeting = { code: greeting.code, text: text(greeting) };
        if (greeting.code !== 220) {
          fail("GREETING_REFUSED", `The server greeted with ${greeting.code} instead of 220: it does not accept mail from here now.`);
        }
      }
      if (report.greeting?.code === 220) {
        const e = await ehlo(tw, o.helo, o.timeoutMs);
        if (e.caps) after = e.caps;
        else fail("EHLO_REFUSED", `The server answered EHLO over TLS with ${e.reply.code}: ${text(e.reply)}.`);
      }
      await tw.quit();
      wire = null;
    }
  } catch (e) {
    const f = e instanceof ProbeFailure ? e : new ProbeFailure("PROTOCOL_ERROR", String(e));
    fail(f.code, f.message);
    wire?.close();
  }

  report.ehlo.beforeTls = capabilityLines(before);
  report.ehlo.afterTls = capabilityLines(after);
  Object.assign(report.ehlo, capabilityDiff(report.ehlo.beforeTls, report.ehlo.afterTls));
  const used = after ?? before;
  if (used) report.service = serviceFacts(used, before);

  // The other TLS version, on a new connection.
  if (report.tls) {
    const mode = d.mode === "implicit" ? "implicit" : "starttls";
    if (report.tls.version === "TLSv1.3") {
      const r = await extraHandshake(host, port, mode, { ...o, greeted: !!report.greeting }, { maxVersion: "TLSv1.2" });
      report.tls.accepts["TLSv1.2"] = r ? r.ok : null;
    } else if (report.tls.version === "TLSv1.2") {
      const r = await extraHandshake(host, port, mode, { ...o, greeted: !!report.greeting }, { minVersion: "TLSv1.3" });
      report.tls.accepts["TLSv1.3"] = r ? r.ok : null;
    }
  }
  return { report, analysis };
}
