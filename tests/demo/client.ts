/**
 * A hand-driven SMTP client for the sink tests: raw node:net / node:tls sockets, replies read
 * line by line, nothing from lib/smtp (the sink is tested on its own).
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { Buffer } from "node:buffer";

export interface Reply {
  code: number;
  lines: string[];
}

export class Client {
  socket: net.Socket;
  private buf = "";
  private waiters: (() => void)[] = [];
  private ended = false;
  private readonly onData = (d: Buffer) => {
    this.buf += d.toString("utf8");
    this.wake();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach();
  }

  private attach() {
    this.socket.on("data", this.onData);
    this.socket.on("end", this.onEnd);
    this.socket.on("close", this.onEnd);
    this.socket.on("error", this.onEnd);
  }

  private detach() {
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.off("error", this.onEnd);
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  static async plain(port: number): Promise<Client> {
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new Client(socket);
  }

  static async implicit(port: number, ca: string, servername = "localhost"): Promise<Client> {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername });
    await secured(socket);
    return new Client(socket);
  }

  /** `tls.connect({ socket })` over the current socket (call right after the 220). */
  async startTls(ca: string, servername = "localhost"): Promise<tls.TLSSocket> {
    assertEmpty(this.buf);
    this.detach();
    const secure = tls.connect({ socket: this.socket, ca, servername });
    await secured(secure);
    this.socket = secure;
    this.attach();
    return secure;
  }

  write(text: string | Uint8Array) {
    this.socket.write(text);
  }

  /** Everything received and not yet read (for checks that nothing more came). */
  pending(): string {
    return this.buf;
  }

  async line(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf("\r\n");
      if (i >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return line;
      }
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms; unread: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line();
      lines.push(line.slice(4));
      if (line[3] !== "-") return { code: Number(line.slice(0, 3)), lines };
    }
  }

  /** Sends one command and returns its reply. */
  async cmd(text: string): Promise<Reply> {
    this.write(text + "\r\n");
    return await this.reply();
  }

  /** Resolves when the peer has closed the connection. */
  async closed(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  destroy() {
    this.socket.destroy();
  }
}

function secured(socket: tls.TLSSocket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
}

function assertEmpty(buf: string) {
  if (buf) throw new Error(`bytes pending before the TLS upgrade: ${JSON.stringify(buf)}`);
}

export const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
