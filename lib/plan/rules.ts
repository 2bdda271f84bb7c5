/**
 * @deprecated The config rules live in ../config/rules.ts (they emit config problems, and config
 * is below plan). This re-export only keeps branches that still import from here building;
 * delete it once nothing does.
 */
export { lintConfig, type LintInput, portMismatch } from "../config/rules.ts";
