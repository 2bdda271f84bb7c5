/** `mailplan probe --help`. */
const PROBE_HELP = `Usage: mailplan probe HOST[:PORT] [--json] [--timeout 5s] [--ca FILE] [--server-name NAME]
       mailplan probe [--config FILE] [--relay NAME] [--json] [--timeout 5s]

Connects to a mail server and explains, in plain words, what it does and what is wrong:
for each port (the one given, the relay's, or 465, 587 and 25) whether it speaks plaintext SMTP
or waits for TLS (decided by waiting briefly for a greeting, then trying a TLS handshake), the
greeting and EHLO capabilities before and after STARTTLS, the TLS versions it accepts, its
certificate chain (names, issuer, dates, days left, trust, missing intermediate) and the SPKI pin
to paste into security.pin. Each problem comes with its fix, and a ready relay block is printed.

With --relay, the host, port, ca, server_name and pins come from that relay of the config, and
every contradiction between the relay and the server is flagged (e.g. strategy: implicit on a
port that speaks plaintext: the 'wrong version number' error). With --config and no HOST and no
--relay, every relay of the config is probed in turn and a table sums them up (relay,
host:port, verdict, days left of the certificate); --json prints an array of reports.
The config is --config FILE, else $MAILPLAN_CONFIG, else $XDG_CONFIG_HOME/mailplan/mail.yaml
(~/.config/mailplan/mail.yaml), else /etc/mailplan/mail.yaml.

Options:
  HOST[:PORT]          host name or address; IPv6 as [::1]:25 (default: the relay's host)
  --config FILE        the YAML config (default: see above)
  --relay NAME         the relay to compare with the server (default with --config: every relay)
  --ca FILE            judge the certificate against this PEM CA file too (the relay's ca wins)
  --server-name NAME   name the certificate must cover (default: the relay's server_name, else HOST)
  --timeout DURATION   deadline of each step: connect, reply, TLS handshake (default 5s)
  --json               print the report as JSON (the shape is in lib/probe/README.md)

Exit status: 0 no problem found, 1 problems found (each is listed with its fix),
64 bad command line, 69 nothing reachable, 78 config invalid.
`;

/** The text of `--help` for mailplan and each command. */
export const HELP: Record<string, string> = {
  probe: PROBE_HELP,
  main: `mailplan — send mail over SMTP the way a config file in git says.

Usage: mailplan <command> [options]     (from a checkout: npx bun run mod.ts … or npx deno run -A mod.ts …)

Commands:
  send    --from A --to B … (--subject S --text T | --message F.eml)   send mail
  outbox  list | flush | show ID | retry ID | drop ID   mail waiting to be delivered
  sendmail [-t] [-i] [-f FROM] [RCPT…] < message     drop-in for /usr/sbin/sendmail (cron, mail, git)
  probe   HOST[:PORT] | --relay R | --config F        explain a server's TLS and write its relay block
  demo                                               send through an embedded loopback sink
  check   [--json] [--login [--relay R]]             validate and lint a config; --login tests AUTH
  plan    [--from A --to B…] [--json]                show the connection plans (no network)
  schema                                             print the config's JSON Schema
  completion bash|zsh|fish                           print a shell completion script

Every command that needs a config takes --config FILE; without it the config is
$MAILPLAN_CONFIG, else $XDG_CONFIG_HOME/mailplan/mail.yaml (~/.config/mailplan/mail.yaml), else
/etc/mailplan/mail.yaml. Each says which file it used (plan's header, check's summary,
send --verbose, and the error when none is found).

Every command takes --help. Exit status: 0 ok, 64 bad command line, 65 bad message or address,
69 refused or unreachable, 75 temporary, 76 TLS/security failure, 77 auth, 78 config or route.
`,
  send: `Usage: mailplan send [--config FILE] [--route NAME] --from ADDR --to ADDR[,ADDR…] [--cc …] [--bcc …]
                     --subject TEXT (--text TEXT | --text-file F) [--html-file F] [--attach F]…
                   | --message FILE.eml          (a complete RFC 5322 message; - reads stdin)
                     [--json] [--quiet] [--transcript FILE] [--verbose] [--net bun|node-tls|deno]

Sends one message along the plan of the config: recipients that take different routes go in
separate transactions, each relay of a route is tried in order (failover), and every route's
security policy is enforced (TLS required means no password and no message byte in clear).
The config is --config FILE, else $MAILPLAN_CONFIG, else $XDG_CONFIG_HOME/mailplan/mail.yaml
(~/.config/mailplan/mail.yaml), else /etc/mailplan/mail.yaml; --verbose names it.

Options:
  --from ADDR          envelope sender and From header (Name <a@x> allowed)
  --to/--cc/--bcc      recipients; repeat or separate with commas (Bcc stays out of the headers)
  --subject, --text, --text-file, --html-file, --attach   build a minimal correct message
  --message FILE.eml   send a raw message unchanged except line endings
  --route NAME         use this route for every recipient instead of matching
  --json               print the contract's result object (on stdout, success or not)
  --quiet              print nothing when the send succeeds (failures and warnings still go to stderr)
  --transcript FILE    write the conversation (-> sent, <- received, ~> <~ over TLS), secrets redacted;
                       created 0600, checked before connecting, never written through a symbolic link
  --verbose            print the conversation to stderr as it happens
  --net ADAPTER        socket adapter: bun (default under Bun), node-tls (default under Deno), deno
  --queue              store the message in the outbox without trying (exit 75); outbox flush sends it
  --no-queue           do not store a temporary failure in the outbox (report it only)

A success is printed on stdout, a failure and any warning on stderr (so \`>/dev/null\` in cron
still shows them). Once the server has accepted the message, nothing local (a transcript that
cannot be written, a closed stdout) changes the exit status: it is a warning.

A temporary failure that outlasts the retries stores the message (pending recipients only) in the
outbox: the result carries "queued": { "id": … } and the exit status is 75.

Exit status: 0 sent, 65 message invalid, 69 refused, 75 temporary or unknown, 76 TLS/security,
77 authentication, 78 config invalid or no route (contract.md has the full table).
`,
  outbox: `Usage: mailplan outbox list  [--config FILE] [--json] [--failed]
       mailplan outbox flush [ID…] [--config FILE] [--json] [--resend-unknown] [--due] [--net ADAPTER]
       mailplan outbox show ID [--config FILE] [--json]
       mailplan outbox retry ID [--config FILE]
       mailplan outbox drop ID [--config FILE]

Mail that could not be delivered yet: a send that ended in a temporary failure after its retries,
a send cut off after its final dot, or \`send --queue\`. Each entry is the exact message plus its
envelope and per-recipient state. The config is --config, else $MAILPLAN_CONFIG, else
$XDG_CONFIG_HOME/mailplan/mail.yaml (~/.config/…), else /etc/mailplan/mail.yaml; the folder is its
\`outbox:\` (relative to it), else $MAILPLAN_OUTBOX, else ~/.local/state/mailplan/outbox
($XDG_STATE_HOME honoured). The folder must be yours and not writable by others (chmod 700).

  list    what is waiting: id, age, sender, recipients, subject, last error; corrupt entries too.
          --failed lists the failed folder instead
  flush   send each entry (or only the IDs given) along the plan of the config in use (an entry
          never chooses the config), to its pending recipients only; an entry is removed after
          the server's final 250 (or a permanent refusal) for every recipient. A lock keeps two
          flushes off the same entry; a bad entry is reported and the others still go.
          An entry whose last send was cut off after its final dot is reported, not resent: the
          server may have it; --resend-unknown resends it anyway (possible duplicate). --due
          skips entries whose next attempt time (5 min doubling, up to 4 h) has not come: for cron.
          Permanent failures and entries older than outbox_max_age (default 5d) move to the
          failed folder (failed/ inside the outbox) and are never retried.
  show    one entry: envelope, subject, attempts, last error
  retry   move a failed entry back into the outbox (due now)
  drop    delete an entry (from the outbox or the failed folder)

Exit status: 0; 65 when an entry is corrupt; 69 when an entry failed for good; flush exits 75
when something is still waiting.
`,
  sendmail: `Usage: mailplan sendmail [-t] [-i|-oi] [-f FROM] [-F NAME] [-v] [--config FILE] [RCPT…] < message
       mailplan sendmail -bp | -q          (list | flush the outbox; also: mailq)

A drop-in for /usr/sbin/sendmail: \`ln -s "$(command -v mailplan)" /usr/sbin/sendmail\` (or any
program named sendmail that runs mailplan) makes cron's MAILTO, mail(1), PHP's mail(), logwatch,
smartd and \`git send-email\` send through the routes and TLS policy of the config.

The message is read from stdin (streamed; line endings become CRLF). Bcc headers are removed; a
missing From, Date or Message-ID is added. Success prints nothing.

  -t               recipients also from the To, Cc and Bcc headers (Resent-* when present);
                   recipients given as arguments are added to them (as Postfix does)
  -i, -oi          a line with a single "." does not end the message (it does without -i)
  -f ADDR, -r ADDR envelope sender (default: sendmail.from in the config, else the From header,
                   else user@host); a sender without a domain (root) gets the host name
  -F NAME          display name of an added From header
  -v               print the SMTP conversation on stderr
  -C FILE, --config FILE
                   the config (default: $MAILPLAN_CONFIG, else $XDG_CONFIG_HOME/mailplan/mail.yaml,
                   else /etc/mailplan/mail.yaml)
  -odq             store in the outbox without trying (exit 0); -q sends it
  -bp              list the outbox;   -q  flush the outbox once
Accepted without effect: -bm -odi -odb -oem -oee -oep -oeq -oew -oQ… -om -oo -em -ee -B TYPE
-N DSN -R RET -V ENVID -L TAG -h N -m -n -G -U -c -s -x. Any other flag is an error naming it.

Config (optional):
  sendmail: { from: "%u@%h", add_from: true, add_date: true, add_message_id: true,
              aliases: { root: ops@example.com, default: ops@example.com } }
  from: %u is the user name, %h the host name, %% a percent sign.
  aliases: where mail to a name without a domain goes (cron mails the crontab's owner, e.g.
  root); default catches every other name. Without an alias such a recipient is an error (65).

Exit status (sysexits, as sendmail): 0 sent, 64 bad flag, 65 bad message or address, 69 refused,
75 temporary failure (the message is kept in the outbox: \`mailplan outbox flush\` sends it),
76 TLS/security, 77 authentication, 78 config invalid or no route.
`,
  demo: `Usage: mailplan demo [--json]

Starts an SMTP sink on 127.0.0.1 (one STARTTLS port, one implicit-TLS port, a CA and certificate
generated at start), writes a config for it, prints the plan, sends one message that takes both
routes (one per strategy), and prints the conversation and where each received message was saved.
Needs no outside server and no network.
`,
  check: `Usage: mailplan check [--config FILE] [--json]
       mailplan check [--config FILE] --login [--relay NAME] [--json] [--net ADAPTER]

Validates the config and lints it: every problem is reported at once as
FILE:LINE:COL path.to.key: what is wrong (got X); hint
Also checks that the files it names (ca, client_cert) exist, and warns about
literal passwords and secrets not available here. No network.
The config is --config FILE, else $MAILPLAN_CONFIG, else $XDG_CONFIG_HOME/mailplan/mail.yaml
(~/.config/mailplan/mail.yaml), else /etc/mailplan/mail.yaml; the summary line names it.

With --login (after a check without errors): connects to each relay (or only --relay NAME),
does TLS and AUTH exactly as a send would, and QUITs without sending anything (swaks's
--quit-after AUTH): the way to test a new password. One line per relay: ok, or the contract
code with its message and hint; the password never appears.

Options:
  --config FILE   the YAML config
  --json          print the result as JSON: { ok, file, errors, warnings, problems: [...] };
                  with --login: { ok, file, relays: [{ relay, host, port, ok, error }] }
  --login         log in to each relay (TLS and AUTH), then QUIT: no MAIL, no message
  --relay NAME    with --login: only this relay
  --net ADAPTER   with --login: socket adapter (as send)

Exit status: 0 when there is no error (warnings allowed), 78 otherwise. With --login: 0 when
every relay let us in, else the exit status of the first failure (69, 75, 76, 77, 78).
`,
  plan: `Usage: mailplan plan [--config FILE] [--from ADDR --to ADDR[,ADDR…]…] [--route NAME] [--json]

Compiles the config into connection plans and prints them. No network.
Without --from/--to: every route and every relay, defaults merged.
With them: which route each recipient takes, and the relays tried in order.
The config is --config FILE, else $MAILPLAN_CONFIG, else $XDG_CONFIG_HOME/mailplan/mail.yaml
(~/.config/mailplan/mail.yaml), else /etc/mailplan/mail.yaml; the header names it.

Options:
  --config FILE   the YAML config
  --from ADDR     envelope sender (with --to)
  --to ADDR       recipient; repeat the flag or separate with commas
  --route NAME    force a route instead of matching
  --json          stable JSON (same bytes for the same config, on Bun and Deno)

Exit status: 0, 65 malformed address, 78 config invalid or no route matches.
`,
  completion: `Usage: mailplan completion bash|zsh|fish

Prints a completion script for the shell: commands, each command's options, and relay and route
names read from the config at completion time (the config the command line names with
--config, else the usual places). Install it with, for example:
  bash:  mailplan completion bash > ~/.local/share/bash-completion/completions/mailplan
  zsh:   mailplan completion zsh > ~/.zfunc/_mailplan   (with fpath+=(~/.zfunc) before compinit)
  fish:  mailplan completion fish > ~/.config/fish/completions/mailplan.fish
`,
  schema: `Usage: mailplan schema

Prints the JSON Schema of the config file (also committed as config/mail.schema.json).
Point your editor at it with a first line of:
# yaml-language-server: $schema=./mail.schema.json
`,
};
