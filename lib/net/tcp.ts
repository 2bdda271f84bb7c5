/**
 * The one `node:net` TCP connect of mailplan (the node-tls adapter and `probe`): resolves a
 * connected socket with no-delay set (runtimes.md: avoids ~40 ms stalls in TLS 1.2 handshakes),
 * rejects with a CONNECT_FAILED NetError, or with `signal.reason` when aborted (socket destroyed).
 *
 * ```ts
 * const sock = await connectTcp("127.0.0.1", 25, AbortSignal.timeout(5000));
 * ```
 */
import * as net from "node:net";
import { connectError } from "./classify.ts";

/**
 * Connects to `host:port`.
 *
 * @example
 * const sock = await connectTcp("::1", 587);
 */
export async function connectTcp(host: string, port: number, signal?: AbortSignal): Promise<net.Socket> {
  signal?.throwIfAborted();
  const sock = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      sock.destroy();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const off = () => signal?.removeEventListener("abort", onAbort);
    sock.once("connect", () => {
      off();
      resolve();
    });
    sock.once("error", (e) => {
      off();
      sock.destroy();
      reject(connectError(e, host, port));
    });
  });
  sock.removeAllListeners("error");
  sock.on("error", () => {}); // later errors reach whoever reads the socket
  sock.setNoDelay(true);
  return sock;
}
