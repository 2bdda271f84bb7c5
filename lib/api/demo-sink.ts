/**
 * The demo sink for library users (examples, tests of their own code): `mailplan demo`'s loopback
 * SMTP server. Loaded when called, so importing mod.ts does not load the sink, its PKI and node:tls.
 */
import type { Sink, SinkOptions } from "../demo/sink.ts";

/**
 * Starts the loopback sink (127.0.0.1, a STARTTLS and an implicit-TLS port, a fresh CA).
 * @example const sink = await startDemoSink(); console.log(sink.ports.implicit, sink.pin); await sink.close();
 */
export async function startDemoSink(options: SinkOptions = {}): Promise<Sink> {
  const { startSink } = await import("../demo/sink.ts");
  return await startSink(options);
}
