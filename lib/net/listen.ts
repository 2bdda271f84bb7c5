/**
 * Event handlers added as one group and removed as one group: a reader that gives a socket back
 * (before a TLS upgrade, or to another reader) must leave none of its handlers behind.
 * @module
 */
import type { EventEmitter } from "node:events";

/** Handlers by event name, e.g. `{ data, end, close, error }`. */
export type Handlers = Record<string, (arg: never) => void>;

/**
 * Adds every handler to `emitter`; returns the function that removes them all.
 * @example const detach = listen(sock, { data: onData, end: onEnd }); … detach();
 */
export function listen(emitter: EventEmitter, handlers: Handlers): () => void {
  const pairs = Object.entries(handlers) as [string, (...args: unknown[]) => void][];
  for (const [event, f] of pairs) emitter.on(event, f);
  return () => {
    for (const [event, f] of pairs) emitter.off(event, f);
  };
}
