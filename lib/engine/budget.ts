/**
 * Time arithmetic of retries, without I/O: the wait before each try, and the longest a relay can
 * hold a send. Kept apart from `deliver.ts` so that `plan` can state the bound without loading
 * the socket code.
 * @module
 */
import type { RelayPlan } from "../plan/types.ts";

/**
 * The wait before try number `n + 1` (n ≥ 1): doubling from `backoff`, capped, with equal jitter.
 *
 * @example
 * ```ts
 * backoffDelay(relay, 1, Math.random); // between backoff/2 and backoff
 * ```
 */
export function backoffDelay(relay: RelayPlan, n: number, random: () => number): number {
  const base = Math.min(relay.retry.max_backoff_ms, relay.retry.backoff_ms * 2 ** (n - 1));
  return Math.round(base / 2 + (base / 2) * random());
}

/**
 * The longest a relay can hold a send that fails before the message (a server that stops
 * answering at one step): tries that each wait out connect plus the longest of the greeting, TLS
 * and command timeouts, with the longest backoffs between them, as long as `retry.max_total`
 * lets another try start. (A try already sending the message also waits out `data` and `dot`.)
 *
 * @example
 * ```ts
 * const { ms, tries } = worstCase(relay); // e.g. 3 tries, 187000 ms with the defaults
 * ```
 */
export function worstCase(relay: RelayPlan): { ms: number; tries: number } {
  const t = relay.timeouts;
  const perTry = t.connect_ms + Math.max(t.greeting_ms, t.tls_ms, t.command_ms);
  let ms = 0, tries = 0;
  for (let n = 1; n <= relay.retry.attempts; n++) {
    if (n > 1) {
      const wait = backoffDelay(relay, n - 1, () => 1);
      if (ms + wait >= relay.retry.max_total_ms) break;
      ms += wait;
    }
    ms += perTry;
    tries = n;
  }
  return { ms, tries };
}
