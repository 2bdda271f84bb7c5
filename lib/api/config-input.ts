/**
 * The library's config: a file path, YAML text, or an object, turned into the same LoadedConfig
 * the CLI gets from `--config`. Only a path touches the filesystem; text and objects are parsed
 * in memory, their relative paths (ca, secret files) anchored at `baseDir`.
 */
import { resolve } from "node:path";
import process from "node:process";
import { MailplanError } from "../codes.ts";
import { checkCertificateFiles, checkSecrets } from "../config/files.ts";
import { type LoadedConfig, loadConfig, parseConfig } from "../config/load.ts";
import { sortProblems } from "../config/problem.ts";
import type { SecretEnv } from "../config/secret.ts";
import { validateConfig } from "../config/validate.ts";
import { lintConfig } from "../config/rules.ts";
import type { Problem } from "../config/problem.ts";
import type { Config } from "../config/schema.ts";

/** A loaded config and where it came from (`path`: a file the CLI could be given too). */
export interface ConfigInput {
  loaded: LoadedConfig;
  /** Absolute path when the config is a file, else null (text or object). */
  path: string | null;
}

/** The name text and object configs carry in messages. */
export const TEXT_NAME = "(config text)";
export const OBJECT_NAME = "(config object)";

/** True when a string is YAML text rather than a path. */
export function isConfigText(s: string): boolean {
  return /[\r\n]/.test(s) || s.trimStart().startsWith("{");
}

function workingDir(): string {
  try {
    return process.cwd();
  } catch {
    return "/";
  }
}

/**
 * Loads the config; `references` also checks the files and secrets it points to (for `check`).
 * Throws MailplanError (USAGE) for a value that is neither a string nor an object; a config with
 * errors is returned with its problems (the caller decides).
 * @example readConfigInput("version: 1\nrelays: {}\nroutes: []\n", {}).path // null
 */
export function readConfigInput(input: unknown, opts: { env?: SecretEnv; baseDir?: string; references?: boolean }): ConfigInput {
  const references = opts.references ?? false;
  if (typeof input === "string") {
    if (input.trim() === "") throw new MailplanError("USAGE", "createMailer was given an empty config.", "pass a config file path, YAML text, or an object");
    if (!isConfigText(input)) {
      const loaded = loadConfig(input, { references, env: opts.env });
      return { loaded, path: resolve(input) };
    }
    const baseDir = resolve(opts.baseDir ?? workingDir());
    const parsed = parseConfig(input, TEXT_NAME, { references: false });
    const extra = parsed.config ? referenceProblems(parsed.config, baseDir, opts.env, references) : [];
    for (const p of extra) p.file = TEXT_NAME;
    return { loaded: { ...parsed, baseDir, problems: sortProblems([...parsed.problems, ...extra]) }, path: null };
  }
  if (input && typeof input === "object" && !Array.isArray(input)) {
    const baseDir = resolve(opts.baseDir ?? workingDir());
    const validated = validateConfig(input);
    const problems = [...validated.problems, ...lintConfig(validated.lintable)];
    const hasError = problems.some((p) => p.severity === "error");
    if (!hasError && validated.config) problems.push(...referenceProblems(validated.config, baseDir, opts.env, references));
    const error = problems.some((p) => p.severity === "error");
    return { loaded: { file: OBJECT_NAME, baseDir, config: error ? undefined : validated.config, problems: sortProblems(problems) }, path: null };
  }
  throw new MailplanError("USAGE", "createMailer needs { config }: a file path, YAML text, or an object.", "for example createMailer({ config: \"./mail.yaml\" })");
}

/** What loadConfig checks of the files a config names (certificates always; secrets for `check`). */
function referenceProblems(config: Config, baseDir: string, env: SecretEnv | undefined, secrets: boolean): Problem[] {
  return [...checkCertificateFiles(config, baseDir), ...(secrets ? checkSecrets(config, baseDir, env) : [])];
}
