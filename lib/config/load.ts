/** Reading a config file: YAML → validated Config, with every problem located as FILE:LINE:COL. */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { MailplanError } from "../codes.ts";
import { lintConfig } from "../plan/rules.ts";
import { checkReferences } from "./files.ts";
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

/** Options for loading: `references` also checks the files and secrets the config points to (for `check`). */
export interface LoadOptions {
  references?: boolean;
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
    problems.push(...validated.problems, ...lintConfig(validated.partial));
    if (validated.config) {
      if (options.references) problems.push(...checkReferences(validated.config, baseDir, options.env));
      config = validated.config;
    }
  }
  for (const p of problems) {
    if (p.line === undefined) Object.assign(p, { file }, source.locate(p.path, p.atKey));
  }
  const hasError = problems.some((p) => p.severity === "error");
  return { file, baseDir, config: hasError ? undefined : config, problems: sortProblems(problems) };
}

/** Reads and parses a config file. Throws CONFIG_INVALID when the file cannot be read. */
export function loadConfig(file: string, options: LoadOptions = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new MailplanError(
      "CONFIG_INVALID",
      code === "ENOENT" ? `The config file ${file} does not exist.` : code === "EISDIR" ? `${file} is a folder, not a config file.` : `The config file ${file} cannot be read (${code ?? "error"}).`,
      "pass the path of a YAML config with --config; config/mail.yaml is an example",
    );
  }
  return parseConfig(text, file, options);
}
