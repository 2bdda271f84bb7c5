/** The text of `--help` for mailplan and each command. */
export const HELP: Record<string, string> = {
  main: `mailplan — send mail over SMTP the way a config file in git says.

Usage: mailplan <command> [options]     (run as: bun run mod.ts … or deno run -A mod.ts …)

Commands:
  check   --config FILE [--json]                     validate and lint a config (no network)
  plan    --config FILE [--from A --to B…] [--json]  show the connection plans (no network)
  schema                                             print the config's JSON Schema

Every command takes --help. Exit status: 0 ok, 64 bad command line, 78 config invalid or no route.
`,
  check: `Usage: mailplan check --config FILE [--json]

Validates the config and lints it: every problem is reported at once as
FILE:LINE:COL path.to.key: what is wrong (got X); hint
Also checks that the files it names (ca, client_cert) exist, and warns about
literal passwords and secrets not available here. No network.

Options:
  --config FILE   the YAML config (required)
  --json          print the result as JSON: { ok, file, errors, warnings, problems: [...] }

Exit status: 0 when there is no error (warnings allowed), 78 otherwise.
`,
  plan: `Usage: mailplan plan --config FILE [--from ADDR --to ADDR[,ADDR…]…] [--route NAME] [--json]

Compiles the config into connection plans and prints them. No network.
Without --from/--to: every route and every relay, defaults merged.
With them: which route each recipient takes, and the relays tried in order.

Options:
  --config FILE   the YAML config (required)
  --from ADDR     envelope sender (with --to)
  --to ADDR       recipient; repeat the flag or separate with commas
  --route NAME    force a route instead of matching
  --json          stable JSON (same bytes for the same config, on Bun and Deno)

Exit status: 0, 65 malformed address, 78 config invalid or no route matches.
`,
  schema: `Usage: mailplan schema

Prints the JSON Schema of the config file (also committed as config/mail.schema.json).
Point your editor at it with a first line of:
# yaml-language-server: $schema=./mail.schema.json
`,
};
