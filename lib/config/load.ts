/** Reading a config file: YAML → validated Config, with every problem located as FILE:LINE:COL. */
import { dirname, resolve } from "node:path";
import { MailplanError } from "../codes.ts";
import { lintConfig } from "./rules.ts";
import { checkCertificateFiles, checkSecrets } from "./files.ts";
import { FILE_LIMITS, formatSize, readRegularFile } from "./regular-file.ts";
import type { Problem } from "./problem.ts";
import { sortProblems } from "./problem.ts";
import type { Config } from "./schema.ts";
import type { SecretEnv } from "./secret.ts";
import { parseSource } from "./source.ts";
import { validateConfig } from "./validate.ts";

/** A loaded config: the typed value when it has no error, and every problem, located and sorted. */
export interface LoadedConfig {
  /** The path as the user gave it (used in messages). */
  file: string;
  /** The folder relative paths in the config are resolved against. */
  baseDir: string;
  config?: Config;
  problems: Problem[];
}

/**
 * Options for loading. `files` checks the certificate files (`ca:`, `client_cert`): loadConfig
 * does unless told `files: false`. `references` checks those and the secrets (for `check`).
 */
export interface LoadOptions {
  references?: boolean;
  files?: boolean;
  /** Where `{ env: NAME }` secrets are looked for by `references` (default process.env). */
  env?: SecretEnv;
}

/**
 * Parses and validates config text; `file` names it in messages and anchors relative paths.
 *
 * @example parseConfig("version: 1\nrelays: {}\nroutes: []\n", "mail.yaml").problems.length // 2
 */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const baseDir = dirname(resolve(file));
  const source = parseSource(text, file);
  const problems: Problem[] = [...source.problems];
  let config: Config | undefined;
  if (source.value !== undefined || source.problems.length === 0) {
    const validated = validateConfig(source.value ?? null);
    problems.push(...validated.problems, ...lintConfig(validated.lintable));
    if (options.files ?? options.references) problems.push(...checkCertificateFiles(validated.lintable, baseDir));
    if (options.references) problems.push(...checkSecrets(validated.lintable, baseDir, options.env));
    config = validated.config;
  }
  for (const p of problems) {
    if (p.line === undefined) Object.assign(p, { file }, source.locate(p.path, p.atKey));
  }
  const hasError = problems.some((p) => p.severity === "error");
  return { file, baseDir, config: hasError ? undefined : config, problems: sortProblems(problems) };
}

/** Reads and parses a config file (a regular file of at most 1 MiB). Throws CONFIG_INVALID when it cannot be read. */
export function loadConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  const r = readRegularFile(file, FILE_LIMITS.config);
  if (!r.ok) {
    const what = r.refusal.reason === "missing" ? `The config file ${file} does not exist.`
      : r.refusal.reason === "too-big" ? `The config file ${file} is larger than ${formatSize(FILE_LIMITS.config)}, the limit for a config.`
      : `The config file ${file} ${r.refusal.message}.`;
    throw new MailplanError("CONFIG_INVALID", what, "pass the path of a YAML config with --config; config/mail.yaml is an example");
  }
  return parseConfig(r.text, file, { files: true, ...options });
}
