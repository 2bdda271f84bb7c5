/**
 * The command line of sendmail(8), as cron, mail(1), PHP's mail(), logwatch, smartd and
 * `git send-email` pass it: getopt-style (clustered `-ti`, glued `-fADDR` or separate `-f ADDR`,
 * options anywhere before `--`), with sendmail's and Postfix's option letters.
 *
 * Invariants: every flag is either understood, accepted as having no effect on a submission
 * client (listed in `ignored`), or a USAGE error that names it; nothing is silently dropped.
 * @module
 */
import { MailplanError } from "../codes.ts";

/** What a sendmail command line asks for. */
export interface SendmailArgs {
  /** send (-bm, the default), list the outbox (-bp, mailq), or flush it (-q). */
  action: "send" | "list" | "flush";
  /** -t: recipients also from the To, Cc and Bcc headers. */
  extract: boolean;
  /** -i / -oi / -O IgnoreDots: a line with a single "." does not end the message. */
  ignoreDots: boolean;
  /** -f / -r: the envelope sender. */
  from?: string;
  /** -F: the display name of an added From header. */
  fullName?: string;
  /** Recipients given as arguments (each may be a comma-separated list). */
  recipients: string[];
  /** -C FILE / --config FILE. */
  config?: string;
  /** -v: print the SMTP conversation on stderr. */
  verbose: boolean;
  /** -odq / -odd: store in the outbox without trying. */
  queueOnly: boolean;
  /** Flags accepted that change nothing here, as given. */
  ignored: string[];
}

/** Option letters that take a value (getopt "x:"); the others stand alone and may be clustered. */
const WITH_VALUE = new Set(["A", "B", "C", "F", "L", "N", "O", "R", "V", "X", "b", "d", "e", "f", "h", "o", "p", "r"]);
/** Letters accepted alone that change nothing for a submission client. */
const NO_EFFECT = new Set(["m", "n", "G", "U", "c", "s", "x"]);
/** Letters with a value that change nothing for a submission client (DSN, body type, syslog tag, hop count, protocol). */
const NO_EFFECT_VALUE = new Set(["A", "B", "L", "N", "R", "V", "h", "p"]);

const usage = (message: string, hint: string) => new MailplanError("USAGE", message, hint);

/** `-b MODE`: only m (deliver) and p (list the queue) mean something here. */
function mode(value: string, a: SendmailArgs): void {
  if (value === "m") return;
  if (value === "p") {
    a.action = "list";
    return;
  }
  const what: Record<string, string> = {
    s: "speaks SMTP on stdin", d: "runs a daemon", D: "runs a daemon", t: "tests addresses", v: "verifies addresses",
    i: "rebuilds the aliases", h: "prints the host status", H: "purges the host status", P: "prints the queue counts", a: "speaks ARPANET",
  };
  throw usage(
    `The sendmail flag -b${value} ${what[value] ?? "selects a mode"}, which mailplan does not do.`,
    "mailplan sendmail sends one message read from stdin (-bm); -bp lists the outbox, -q flushes it",
  );
}

/** `-o X` (old-style sendmail.cf options): the ones that change nothing, and -oi. */
function oldOption(value: string, a: SendmailArgs): void {
  if (value === "i" || value === "itrue" || value === "i=true") {
    a.ignoreDots = true;
    return;
  }
  if (value === "dq" || value === "dd") {
    a.queueOnly = true;
    return;
  }
  // delivery mode (interactive, background), error mode (mail, exit, print, quiet, write), queue dir,
  // "me too", old headers, single-threaded, log level, alias file, 8-bit mode
  if (/^(d[ib]|e[meqpw]|Q.*|m|o|s|L\d*|A.*|8.*)$/.test(value)) {
    a.ignored.push(`-o${value}`);
    return;
  }
  throw usage(`The sendmail flag -o${value} is not supported by mailplan sendmail.`, "drop it; options that change nothing for a submission client (-oi, -odi, -odb, -oem, -oee, -oQ…) are accepted");
}

/** `-O Option=value` (long sendmail.cf options): IgnoreDots, DeliveryMode and ErrorMode. */
function longOption(value: string, a: SendmailArgs): void {
  const [name, v = ""] = value.split("=", 2);
  const key = name.trim().toLowerCase();
  if (key === "ignoredots") {
    a.ignoreDots = !/^(f|false|n|no|0)$/i.test(v.trim());
    return;
  }
  if (key === "deliverymode") return oldOption(`d${v.trim().charAt(0)}`, a);
  if (key === "errormode" || key === "queuedirectory" || key === "loglevel") {
    a.ignored.push(`-O${value}`);
    return;
  }
  throw usage(`The sendmail option -O ${value} is not supported by mailplan sendmail.`, "drop it; -O IgnoreDots, DeliveryMode and ErrorMode are accepted");
}

/** One option letter with its value (undefined for letters that stand alone). */
function apply(letter: string, value: string | undefined, a: SendmailArgs): void {
  const v = value ?? "";
  switch (letter) {
    case "t": a.extract = true; return;
    case "i": a.ignoreDots = true; return;
    case "v": a.verbose = true; return;
    case "f": case "r": a.from = v; return;
    case "F": a.fullName = v; return;
    case "C": a.config = v; return;
    case "b": return mode(v, a);
    case "o": return oldOption(v, a);
    case "O": return longOption(v, a);
    case "e": // old error-mode flag, like -oe
      if (/^[meqpw]$/.test(v)) {
        a.ignored.push(`-e${v}`);
        return;
      }
      throw usage(`The sendmail flag -e${v} is not an error mode.`, "use -em, -ee, -ep, -eq or -ew, or drop it");
    case "d": throw usage(`The sendmail flag -d${v} (debugging) is not supported by mailplan sendmail.`, "use -v to see the SMTP conversation");
    case "X": throw usage("The sendmail flag -X (traffic log file) is not supported by mailplan sendmail.", "use -v to print the SMTP conversation on stderr, or mailplan send --transcript FILE");
    case "I": throw usage("The sendmail flag -I rebuilds the aliases, which mailplan does not have.", "drop it; mailplan sendmail sends to the addresses it is given");
  }
  if (NO_EFFECT.has(letter) || NO_EFFECT_VALUE.has(letter)) {
    a.ignored.push(value === undefined ? `-${letter}` : `-${letter}${value}`);
    return;
  }
  throw usage(`The sendmail flag -${letter} is not supported by mailplan sendmail.`, "run mailplan sendmail --help for the flags it accepts");
}

/**
 * Parses a sendmail command line (without the program name). Throws USAGE naming the flag.
 * @example parseSendmailArgs(["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "ops@example.com"])
 * // { action: "send", extract: false, ignoreDots: true, fullName: "CronDaemon", recipients: ["ops@example.com"], … }
 */
export function parseSendmailArgs(argv: readonly string[]): SendmailArgs {
  const a: SendmailArgs = { action: "send", extract: false, ignoreDots: false, recipients: [], verbose: false, queueOnly: false, ignored: [] };
  let queueFlag = false;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === "--") {
      a.recipients.push(...argv.slice(k + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
      if (name === "--config") {
        const v = inline ?? argv[++k];
        if (v === undefined || v === "") throw usage("Option --config of sendmail needs a value.", "give the path of the YAML config: --config /etc/mailplan/mail.yaml");
        a.config = v;
        continue;
      }
      throw usage(`Unknown option ${name} for sendmail.`, "mailplan sendmail takes sendmail's one-letter flags (-t, -i, -f ADDR, -F NAME …) and --config FILE");
    }
    if (!arg.startsWith("-") || arg === "-") {
      a.recipients.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j];
      if (letter === "q") {
        const rest = arg.slice(j + 1);
        if (rest !== "") {
          throw usage(`The sendmail flag -q${rest} runs the queue on a schedule or selectively, which mailplan does not do.`, "use -q alone to flush the outbox once, or run `mailplan outbox flush --due` from cron");
        }
        queueFlag = true;
        break;
      }
      if (!WITH_VALUE.has(letter)) {
        apply(letter, undefined, a);
        continue;
      }
      let value = arg.slice(j + 1);
      if (value === "") {
        if (k + 1 >= argv.length) throw usage(`The sendmail flag -${letter} needs a value.`, letter === "f" || letter === "r" ? "for example -f sender@example.com" : "run mailplan sendmail --help");
        value = argv[++k];
      }
      apply(letter, value, a);
      break;
    }
  }
  if (queueFlag) {
    if (a.action === "list") throw usage("-q (flush the outbox) and -bp (list it) cannot be combined.", "run one, then the other");
    a.action = "flush";
  }
  return a;
}
