/** Command-line parsing with node:util parseArgs (same in Bun and Deno); mistakes become USAGE errors. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { MailplanError } from "../codes.ts";
import { suggestion } from "../config/suggest.ts";
import { splitAddressList } from "../message/address-list.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses a command's flags strictly; an unknown flag or a missing value is a USAGE error with a hint. */
export function parseFlags<O extends Options>(command: string, args: string[], options: O, positionals = 0) {
  try {
    const parsed = parseArgs({ args, options: { help: { type: "boolean", short: "h" }, ...options }, strict: true, allowPositionals: true });
    if (parsed.positionals.length > positionals) {
      throw new MailplanError("USAGE", `Unexpected argument "${parsed.positionals[positionals]}" for ${command}.`, `run mailplan ${command} --help`);
    }
    return parsed;
  } catch (e) {
    if (e instanceof MailplanError) throw e;
    const m = (e as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(m)?.[1];
    if ((e as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
      const s = suggestion(flag.replace(/^-+/, ""), Object.keys(options));
      throw new MailplanError("USAGE", `Unknown option ${flag} for ${command}.`, s.startsWith("did") ? `${s.replace(/"(.*)"/, '"--$1"')}` : `run mailplan ${command} --help`);
    }
    if ((e as { code?: string }).code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
      throw new MailplanError("USAGE", `Option ${flag} of ${command} needs a value.`, `run mailplan ${command} --help`);
    }
    throw new MailplanError("USAGE", `${m.split("\n")[0]}`, `run mailplan ${command} --help`);
  }
}

/** The value of a required flag, or a USAGE error naming it. */
export function required(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new MailplanError("USAGE", `${command} needs --${name}.`, `run mailplan ${command} --help`);
  return value;
}

/**
 * Flattens repeated address-list flags: `--to a,b --to '"Doe, John" <j@x.org>'` → three
 * mailboxes as written. Splitting follows RFC 5322 (splitAddressList): a comma inside quotes,
 * a comment or angle brackets does not split, and a group stands for its members.
 */
export function listFlag(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => splitAddressList(v));
}
