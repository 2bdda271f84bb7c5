/**
 * Where the config is (one rule for every command): `--config FILE`, else `$MAILPLAN_CONFIG`,
 * else `$XDG_CONFIG_HOME/mailplan/mail.yaml` (`~/.config/mailplan/mail.yaml` when XDG_CONFIG_HOME
 * is unset or relative), else `/etc/mailplan/mail.yaml`. An explicit choice (the flag or the
 * variable) is returned even when the file is missing, so loading it reports that; the two
 * default places are used only when the file exists. The result says which rule chose it, or,
 * when none did, every place that was looked at.
 * @module
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { MailplanError } from "../codes.ts";

/** Which rule chose the config. */
export type ConfigRule = "--config" | "$MAILPLAN_CONFIG" | "$XDG_CONFIG_HOME" | "~/.config" | "/etc";

/** The config found, or where it was looked for. */
export type LocatedConfig =
  | { found: true; path: string; rule: ConfigRule; tried: string[] }
  | { found: false; path: null; rule: null; tried: string[] };

/** The system-wide config. */
export const SYSTEM_CONFIG = "/etc/mailplan/mail.yaml";

/**
 * Finds the config file for a command.
 * @example locateConfig(undefined, { MAILPLAN_CONFIG: "/srv/mail.yaml" }) // { found: true, path: "/srv/mail.yaml", rule: "$MAILPLAN_CONFIG", … }
 */
export function locateConfig(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  opts: { exists?: (path: string) => boolean; home?: string; cwd?: string } = {},
): LocatedConfig {
  const exists = opts.exists ?? existsSync;
  const cwd = opts.cwd ?? process.cwd();
  if (flag !== undefined && flag !== "") return { found: true, path: resolve(cwd, flag), rule: "--config", tried: [] };
  if (env.MAILPLAN_CONFIG) return { found: true, path: resolve(cwd, env.MAILPLAN_CONFIG), rule: "$MAILPLAN_CONFIG", tried: [] };
  const home = opts.home ?? (env.HOME || homedir());
  const xdg = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : null;
  const candidates: [string, ConfigRule][] = [
    [join(xdg ?? join(home, ".config"), "mailplan", "mail.yaml"), xdg ? "$XDG_CONFIG_HOME" : "~/.config"],
    [SYSTEM_CONFIG, "/etc"],
  ];
  const tried: string[] = [];
  for (const [path, rule] of candidates) {
    tried.push(path);
    if (exists(path)) return { found: true, path, rule, tried };
  }
  return { found: false, path: null, rule: null, tried };
}

/** How a located config was chosen, for messages: "mail.yaml (from --config)". */
export function describeConfig(c: LocatedConfig): string {
  return c.found ? `${c.path} (${c.rule === "--config" ? "from --config" : c.rule === "$MAILPLAN_CONFIG" ? "from $MAILPLAN_CONFIG" : "the default location"})` : "no config";
}

/** Why a rule chose the config, in words: "from --config", "from $MAILPLAN_CONFIG", "the default location". */
export function ruleText(rule: ConfigRule): string {
  return rule === "--config" ? "from --config" : rule === "$MAILPLAN_CONFIG" ? "from $MAILPLAN_CONFIG" : `the default location, ${rule === "/etc" ? "system-wide" : rule}`;
}

/** A config a command will load: the file as the user wrote it (flag or variable), the rule, and the words for it. */
export interface ChosenConfig {
  /** The path to load: as written for --config and $MAILPLAN_CONFIG (so outputs that name it keep the user's spelling), absolute for the defaults. */
  file: string;
  rule: ConfigRule;
  /** How it was chosen, in words ({@link ruleText}). */
  via: string;
  /** "mail.yaml (from --config)": for headers, --verbose and summaries (not escaped). */
  described: string;
}

/**
 * The config a command must have, by {@link locateConfig}'s rule, or CONFIG_INVALID naming every
 * place looked at and what to do.
 * @example chooseConfig("plan", "mail.yaml", {}) // { file: "mail.yaml", rule: "--config", via: "from --config", described: "mail.yaml (from --config)" }
 */
export function chooseConfig(
  command: string,
  flag: string | undefined,
  env: Record<string, string | undefined>,
  opts: { exists?: (path: string) => boolean; home?: string; cwd?: string } = {},
): ChosenConfig {
  const c = locateConfig(flag, env, opts);
  if (!c.found) {
    throw new MailplanError(
      "CONFIG_INVALID",
      `No config found for ${command}: no --config, no $MAILPLAN_CONFIG, and nothing at ${c.tried.join(" or ")}.`,
      `write one at ${c.tried[0]} (or ${c.tried[1]} for the whole host), set $MAILPLAN_CONFIG, or pass --config FILE`,
    );
  }
  const file = c.rule === "--config" ? flag! : c.rule === "$MAILPLAN_CONFIG" ? env.MAILPLAN_CONFIG! : c.path;
  const via = ruleText(c.rule);
  return { file, rule: c.rule, via, described: `${file} (${via})` };
}
