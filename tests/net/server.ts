/**
 * In-process loopback test server (node:net + node:tls servers: they work in Bun and Deno).
 *
 * A tiny line protocol: greeting `220 ready` (plain/starttls: at connect; implicit: after the
 * handshake; none inside an upgraded STARTTLS session), `PING` → `250 PONG` (+ ` tls` inside
 * TLS), `STARTTLS` → `220 go ahead` + `inject`, then the raw socket is piped to an internal
 * `tls.Server` (no server-side `new tls.TLSSocket`, which is unreliable outside Node),
 * `QUIT` → `221 bye`. Every line received is recorded as `plain:LINE` or `tls:LINE`.
 */
import * as net from "node:net";
import * as tls from "node:tls";

export interface ServerOptions {
  mode: "plain" | "implicit" | "starttls";
  /** Server TLS options (key, cert, maxVersion, requestCert, ca, …). */
  tls?: tls.TlsOptions;
  /** STARTTLS: bytes written in the same write as the `220 go ahead` line. */
  inject?: string;
  /** STARTTLS: answer 220 and then keep talking plaintext (no TLS at all). */
  fakeStartTls?: boolean;
  /** STARTTLS: answer 220 and then stay silent (no handshake). */
  silentStartTls?: boolean;
}

export interface TestServer {
  host: "127.0.0.1";
  port: number;
  /** Lines received, `plain:…` / `tls:…`. */
  lines: string[];
  /** Errors of the TLS server side (handshake failures seen by the server). */
  tlsErrors: string[];
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<TestServer> {
  const lines: string[] = [];
  const tlsErrors: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  };

  const session = (s: net.Socket, secure: boolean, greet: boolean, onStartTls?: (rest: Buffer) => void) => {
    let buf = "";
    if (greet) s.write("220 ready\r\n");
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        lines.push(`${secure ? "tls" : "plain"}:${line}`);
        if (line === "PING") s.write(secure ? "250 PONG tls\r\n" : "250 PONG\r\n");
        else if (line === "QUIT") s.end("221 bye\r\n");
        else if (line === "STARTTLS" && !secure && onStartTls) {
          s.off("data", onData);
          onStartTls(Buffer.from(buf, "latin1"));
          return;
        } else s.write("500 unknown\r\n");
      }
    };
    s.on("data", onData);
  };

  let tlsServer: tls.Server | null = null;
  let tlsPort = 0;
  if (opts.mode !== "plain") {
    tlsServer = tls.createServer(opts.tls ?? {}, (s) => {
      track(s);
      session(s, true, opts.mode === "implicit");
    });
    tlsServer.on("connection", track);
    tlsServer.on("tlsClientError", (e: Error & { code?: string }) => tlsErrors.push(e.code ?? e.message));
    await new Promise<void>((r) => tlsServer!.listen(0, "127.0.0.1", r));
    tlsPort = (tlsServer.address() as net.AddressInfo).port;
  }

  let front: net.Server | null = null;
  if (opts.mode !== "implicit") {
    front = net.createServer((s) => {
      track(s);
      session(s, false, true, (rest) => {
        if (opts.fakeStartTls) {
          s.write("220 go ahead\r\n");
          s.on("data", () => s.write("250 still plaintext\r\n"));
          return;
        }
        s.write("220 go ahead\r\n" + (opts.inject ?? ""));
        if (opts.silentStartTls) return; // swallow the ClientHello
        const up = net.connect(tlsPort, "127.0.0.1");
        track(up);
        if (rest.length) up.write(rest);
        s.pipe(up);
        up.pipe(s);
        s.on("close", () => up.destroy());
        up.on("close", () => s.destroy());
      });
    });
    await new Promise<void>((r) => front!.listen(0, "127.0.0.1", r));
  }

  const port = ((front ?? tlsServer!).address() as net.AddressInfo).port;
  return {
    host: "127.0.0.1",
    port,
    lines,
    tlsErrors,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(
        [front, tlsServer].filter((x): x is net.Server => !!x).map((srv) =>
          new Promise<void>((r) => srv.close(() => r()))
        ),
      );
    },
  };
}

/** A port with nothing listening (bound then released). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
