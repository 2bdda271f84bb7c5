/**
 * `completion bash|zsh|fish`: a shell completion script (commands, each command's options, and the
 * values some options take), and the hidden `__complete relays|routes [--config FILE]` the scripts
 * call at completion time to list the relay and route names of the config (found by the one rule
 * of lib/config/locate.ts).
 *
 * Invariants: the three scripts come from the one table {@link COMPLETION}, so they offer the
 * same things; `__complete` prints only names made of letters, digits, `.`, `-` and `_` (nothing
 * a shell would interpret, no control byte), one per line, and never fails loudly: exit 0, no
 * output, whatever is wrong with the config (a completion must not print errors into a prompt).
 */
import { readFileSync } from "node:fs";
import { MailplanError } from "../codes.ts";
import { locateConfig } from "../config/locate.ts";
import { parseSource } from "../config/source.ts";
import { parseFlags } from "./args.ts";
import type { CliIo } from "./io.ts";

/** Each command's options, in the order --help lists them (`sub`: words after the command). */
export const COMPLETION: Record<string, { options: string[]; sub?: string[] }> = {
  send: {
    options: [
      "--config", "--route", "--from", "--to", "--cc", "--bcc", "--subject", "--text", "--text-file", "--html-file", "--attach",
      "--message", "--json", "--quiet", "--transcript", "--verbose", "--net", "--queue", "--no-queue", "--help",
    ],
  },
  outbox: { options: ["--config", "--json", "--failed", "--resend-unknown", "--due", "--net", "--help"], sub: ["list", "flush", "show", "retry", "drop"] },
  sendmail: { options: ["-t", "-i", "-oi", "-f", "-F", "-v", "-C", "--config", "-odq", "-bp", "-q"] },
  probe: { options: ["--config", "--relay", "--ca", "--server-name", "--timeout", "--json", "--help"] },
  demo: { options: ["--json", "--help"] },
  check: { options: ["--config", "--json", "--login", "--relay", "--net", "--help"] },
  plan: { options: ["--config", "--from", "--to", "--route", "--json", "--help"] },
  schema: { options: ["--help"] },
  completion: { options: [], sub: ["bash", "zsh", "fish"] },
};

/** Options whose value is a file name. */
const FILE_OPTIONS = ["--config", "-C", "--text-file", "--html-file", "--attach", "--message", "--transcript", "--ca"];
const ADAPTERS = ["bun", "node-tls", "deno"];

/** `mailplan completion SHELL`. */
export function completionCommand(args: string[], io: CliIo): number {
  const { positionals } = parseFlags("completion", args, {}, 1);
  const shell = positionals[0];
  const script = shell === "bash" ? bashScript() : shell === "zsh" ? zshScript() : shell === "fish" ? fishScript() : null;
  if (!script) {
    throw new MailplanError("USAGE", shell === undefined ? "completion needs the name of a shell." : `No completion for the shell "${shell.replace(/[^\x20-\x7e]/g, "?")}".`, "write mailplan completion bash, zsh or fish");
  }
  io.out(script);
  return 0;
}

/** `mailplan __complete relays|routes [--config FILE]`: names one per line; never an error. */
export function completeCommand(args: string[], io: CliIo): number {
  try {
    const what = args[0];
    const i = args.indexOf("--config");
    const located = locateConfig(i >= 0 ? args[i + 1] : undefined, io.env);
    if (!located.found || (what !== "relays" && what !== "routes")) return 0;
    const value = parseSource(readFileSync(located.path, "utf8"), located.path).value as { relays?: unknown; routes?: unknown } | undefined;
    const names = what === "relays"
      ? (value?.relays && typeof value.relays === "object" && !Array.isArray(value.relays) ? Object.keys(value.relays) : [])
      : (Array.isArray(value?.routes) ? value.routes.map((r) => (r && typeof r === "object" ? (r as { name?: unknown }).name : undefined)) : []);
    const safe = names.filter((n): n is string => typeof n === "string" && /^[A-Za-z0-9._-]{1,128}$/.test(n));
    if (safe.length) io.out(safe.join("\n") + "\n");
  } catch {
    // A completion never prints an error into the user's prompt.
  }
  return 0;
}

const words = (list: string[]) => list.join(" ");

function bashScript(): string {
  const cases = Object.entries(COMPLETION).map(([c, o]) => {
    const sub = o.sub ? `[[ -z "$sub" ]] && opts="${words(o.sub)} "; ` : "";
    return `    ${c}) ${sub}opts+="${words(o.options)}" ;;`;
  });
  return `# mailplan completion for bash (mailplan completion bash)
# Install: mailplan completion bash > ~/.local/share/bash-completion/completions/mailplan
# Relay and route names come from the config at completion time (mailplan __complete).
_mailplan() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="" sub="" config="" opts="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      --config|-C) config="\${COMP_WORDS[i+1]}"; ((i++)) ;;
      --config=*) config="\${w#--config=}" ;;
      ${FILE_OPTIONS.filter((f) => f !== "--config" && f !== "-C").join("|")}|--relay|--route|--net|--from|--to|--cc|--bcc|--subject|--text|--timeout|--server-name|-f|-F) ((i++)) ;;
      -*) ;;
      *) if [[ -z "$cmd" ]]; then cmd="$w"; elif [[ -z "$sub" ]]; then sub="$w"; fi ;;
    esac
  done
  config="\${config/#\\~/$HOME}"
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "${words(Object.keys(COMPLETION))} --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
    ${FILE_OPTIONS.join("|")}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --relay) COMPREPLY=($(compgen -W "$(mailplan __complete relays \${config:+--config "$config"} 2>/dev/null)" -- "$cur")); return ;;
    --route) COMPREPLY=($(compgen -W "$(mailplan __complete routes \${config:+--config "$config"} 2>/dev/null)" -- "$cur")); return ;;
    --net) COMPREPLY=($(compgen -W "${words(ADAPTERS)}" -- "$cur")); return ;;
  esac
  case "$cmd" in
${cases.join("\n")}
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o default -F _mailplan mailplan
`;
}

function zshScript(): string {
  const cases = Object.entries(COMPLETION).map(([c, o]) => {
    const sub = o.sub ? `[[ -z $sub ]] && opts=(${words(o.sub)}); ` : "";
    return `    ${c}) ${sub}opts+=(${words(o.options)}) ;;`;
  });
  return `#compdef mailplan
# mailplan completion for zsh (mailplan completion zsh)
# Install: mailplan completion zsh > ~/.zfunc/_mailplan, with fpath+=(~/.zfunc) before compinit.
# Relay and route names come from the config at completion time (mailplan __complete).
_mailplan() {
  local cmd="" sub="" config="" i w
  local -a opts names
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    case $w in
      --config|-C) config=\${words[i+1]}; ((i++)) ;;
      --config=*) config=\${w#--config=} ;;
      ${FILE_OPTIONS.filter((f) => f !== "--config" && f !== "-C").join("|")}|--relay|--route|--net|--from|--to|--cc|--bcc|--subject|--text|--timeout|--server-name|-f|-F) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi ;;
    esac
  done
  if [[ -z $cmd ]]; then
    compadd -- ${words(Object.keys(COMPLETION))} --help --version
    return
  fi
  case \${words[CURRENT-1]} in
    ${FILE_OPTIONS.join("|")}) _files; return ;;
    --relay) names=(\${(f)"$(mailplan __complete relays \${config:+--config "\${~config}"} 2>/dev/null)"}); compadd -a names; return ;;
    --route) names=(\${(f)"$(mailplan __complete routes \${config:+--config "\${~config}"} 2>/dev/null)"}); compadd -a names; return ;;
    --net) compadd -- ${words(ADAPTERS)}; return ;;
  esac
  case $cmd in
${cases.join("\n")}
  esac
  compadd -a opts
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _mailplan "$@"
else
  compdef _mailplan mailplan
fi
`;
}

function fishScript(): string {
  const lines = [
    "# mailplan completion for fish (mailplan completion fish)",
    "# Install: mailplan completion fish > ~/.config/fish/completions/mailplan.fish",
    "# Relay and route names come from the config at completion time (mailplan __complete).",
    "function __mailplan_config",
    "    set -l tokens (commandline -opc)",
    "    set -l i (contains -i -- --config $tokens)",
    "    and set -q tokens[(math $i + 1)]",
    "    and printf '%s\\n' --config $tokens[(math $i + 1)]",
    "end",
    "complete -c mailplan -f",
    `complete -c mailplan -n __fish_use_subcommand -a '${words(Object.keys(COMPLETION))}'`,
  ];
  for (const [c, o] of Object.entries(COMPLETION)) {
    const when = `-n '__fish_seen_subcommand_from ${c}'`;
    if (o.sub) lines.push(`complete -c mailplan ${when} -a '${words(o.sub)}'`);
    for (const opt of o.options) {
      const flag = opt.startsWith("--") ? `-l ${opt.slice(2)}` : opt.length === 2 ? `-s ${opt.slice(1)}` : `-o ${opt.slice(1)}`;
      const value = FILE_OPTIONS.includes(opt) ? " -r -F"
        : opt === "--relay" ? ` -x -a '(mailplan __complete relays (__mailplan_config) 2>/dev/null)'`
        : opt === "--route" ? ` -x -a '(mailplan __complete routes (__mailplan_config) 2>/dev/null)'`
        : opt === "--net" ? ` -x -a '${words(ADAPTERS)}'`
        : "";
      lines.push(`complete -c mailplan ${when} ${flag}${value}`);
    }
  }
  return lines.join("\n") + "\n";
}
