/**
 * `probe`: the doctor that explains a mail server's TLS in plain words and writes the config
 * for it. See README.md in this folder for the JSON shape.
 * @module
 */
export { DEFAULT_PORTS, exitStatus, probe, type ProbeOptions } from "./run.ts";
export { loadRelay } from "./relay.ts";
export { renderProbe } from "./render.ts";
export { parseTarget } from "./target.ts";
export { probeHint } from "./hint.ts";
export type * from "./types.ts";
