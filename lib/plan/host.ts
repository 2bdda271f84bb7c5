/**
 * @deprecated isLoopback lives in ../config/host.ts (the config rules need it, and config is
 * below plan). This re-export only keeps branches that still import it from here building;
 * delete it once nothing does.
 */
export { isLoopback } from "../config/host.ts";
