import { isAbsolute, resolve } from "node:path";

/** Resolves a path from the config (`ca`, `client_cert`, `{ file: }`) relative to the config file's folder. */
export function resolvePath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
