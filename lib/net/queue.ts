/**
 * Receive buffer shared by the push-style adapters (Bun native, node:tls): chunks pushed by the
 * socket's data events, pulled by `read()`. Above `highWater` bytes it asks the socket to pause,
 * so memory stays bounded whatever the peer sends.
 */
export class ReadQueue {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #ended = false;
  #error: unknown = null;
  #waiter: { resolve: (v: Uint8Array | null) => void; reject: (e: unknown) => void } | null = null;
  #paused = false;
  readonly #highWater: number;
  readonly #pressure: (pause: boolean) => void;

  constructor(pressure: (pause: boolean) => void = () => {}, highWater = 256 * 1024) {
    this.#pressure = pressure;
    this.#highWater = highWater;
  }

  /** Bytes queued and not yet read. */
  get size(): number {
    return this.#size;
  }

  /** true once `end()` or `fail()` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Gives `value` to a pending read(), if there is one (there is one only while nothing is queued). */
  #handOff(value: Uint8Array | null): boolean {
    const w = this.#waiter;
    if (!w) return false;
    this.#waiter = null;
    w.resolve(value);
    return true;
  }

  push(chunk: Uint8Array): void {
    if (this.#ended || chunk.length === 0) return;
    if (this.#handOff(chunk)) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (!this.#paused && this.#size >= this.#highWater) {
      this.#paused = true;
      this.#pressure(true);
    }
  }

  /** Puts bytes back at the front (they are returned by the next read). */
  unshift(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#handOff(chunk)) return;
    this.#chunks.unshift(chunk);
    this.#size += chunk.length;
  }

  /** EOF: queued chunks are still delivered, then null. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#chunks.length === 0) this.#handOff(null);
  }

  /** Failure: queued chunks are still delivered, then the error is thrown (once), then null. */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiter) {
      // a waiter exists only while nothing is queued
      const w = this.#waiter;
      this.#waiter = null;
      w.reject(error);
      return;
    }
    this.#error = error;
  }

  /** The failure a later read() will throw (e.g. a TLS alert), without consuming it; else null. */
  get pendingError(): unknown {
    return this.#error;
  }

  /** Drops everything and ends: a pending read resolves null. */
  clear(): void {
    this.#chunks = [];
    this.#size = 0;
    this.#error = null;
    this.end();
    this.#handOff(null);
  }

  read(): Promise<Uint8Array | null> {
    if (this.#waiter) return Promise.reject(new Error("ReadQueue: concurrent read()"));
    const chunk = this.#chunks.shift();
    if (chunk) {
      this.#size -= chunk.length;
      if (this.#paused && this.#size < this.#highWater / 2) {
        this.#paused = false;
        this.#pressure(false);
      }
      return Promise.resolve(chunk);
    }
    if (this.#error !== null) {
      const e = this.#error;
      this.#error = null;
      return Promise.reject(e);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}
