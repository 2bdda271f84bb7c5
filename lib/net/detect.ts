/**
 * Picks and loads a connection adapter. The only module that imports the adapters, each by
 * dynamic import, so Deno never loads Bun code and vice versa.
 *
 * ```ts
 * import { connect } from "./detect.ts";
 * const conn = await connect({ host: "127.0.0.1", port: 465, tls: { serverName: "localhost" } });
 * const other = await connect({ host: "127.0.0.1", port: 25, adapter: "deno" }); // by name
 * ```
 * Default: Bun native under Bun, node:tls under Deno (and Node).
 */
import type { Adapter, AdapterName, Conn, ConnectOptions } from "./conn.ts";

/** The JavaScript runtime running this code. */
export function runtime(): "bun" | "deno" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** Adapters usable in the current runtime, the default first. */
export function availableAdapters(): AdapterName[] {
  switch (runtime()) {
    case "bun":
      return ["bun", "node-tls"];
    case "deno":
      return ["node-tls", "deno"];
    default:
      return ["node-tls"];
  }
}

/** The adapter used when none is named. */
export function defaultAdapter(): AdapterName {
  return availableAdapters()[0];
}

const loaded = new Map<AdapterName, Promise<Adapter>>();

/** Loads an adapter by name (default: {@link defaultAdapter}); throws if this runtime lacks it. */
export function loadAdapter(name: AdapterName = defaultAdapter()): Promise<Adapter> {
  if (!availableAdapters().includes(name)) {
    return Promise.reject(
      new Error(
        `The "${name}" adapter is not available under ${runtime()}; use one of: ${
          availableAdapters().join(", ")
        }.`,
      ),
    );
  }
  let p = loaded.get(name);
  if (!p) {
    p = name === "bun"
      ? import("./bun.ts").then((m) => m.adapter)
      : name === "deno"
      ? import("./deno.ts").then((m) => m.adapter)
      : import("./node-tls.ts").then((m) => m.adapter);
    loaded.set(name, p);
  }
  return p;
}

/** Connects with the named (or default) adapter. See {@link ConnectOptions}. */
export async function connect(options: ConnectOptions & { adapter?: AdapterName }): Promise<Conn> {
  const adapter = await loadAdapter(options.adapter);
  return adapter.connect(options);
}
