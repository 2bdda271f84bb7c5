/**
 * @deprecated The built-in defaults live in ../config/defaults.ts (the config rules need them,
 * and config is below plan). This re-export only keeps branches that still import them from
 * here building; delete it once nothing does.
 */
export { BUILTIN, PORT_STRATEGY } from "../config/defaults.ts";
