#!/usr/bin/env bash
# Starts a private Postfix instance on 127.0.0.1 for SMTP-client tests (recipe: /work/shared/docs/postfix.md).
# Prints ONE line of JSON on stdout once all three ports answer with this instance's banner:
#   {"dir","ports":{"implicit","starttls","plain"},"ca","user","password","maildir","pid","runId","startMs"}
# Ports: implicit = implicit TLS (wrappermode), AUTH required; starttls = STARTTLS required (encrypt), then AUTH
# required; plain = STARTTLS offered, no AUTH. Mail for *@example.test lands in Maildir $maildir (new/).
# Env (all optional): MAILPLAN_PFX_PORT_IMPLICIT / _STARTTLS / _PLAIN (default: free ports chosen now),
# MAILPLAN_PFX_USER (tester), MAILPLAN_PFX_PASSWORD (random), MAILPLAN_PFX_DIR (reuse: if an instance of
# ours runs there, print its JSON again and exit 0; if the dir is absent it is created),
# MAILPLAN_PFX_OWNER=PID (a watchdog stops the instance once that process is gone; the TS wrapper sets it).
# Stop with: tests/peers/postfix/stop.sh DIR. Needs root and: postfix sasl2-bin libsasl2-modules openssl.
set -euo pipefail
export LC_ALL=C
t0=$(date +%s%N)
die() { echo "postfix/start.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (Postfix's master and smtpd need it)"
for b in /usr/sbin/postfix /usr/sbin/saslpasswd2 /usr/bin/openssl; do
  [ -x "$b" ] || die "$b missing: apt-get install -y postfix sasl2-bin libsasl2-modules openssl"
done

USER_NAME=${MAILPLAN_PFX_USER:-tester}
LOCK=/tmp/mailplan-pfx.lock   # serialises port choice + bind across parallel starts (SO_REUSEPORT, pitfall 8)

json() {  # $1 = dir; facts are stored in $1/facts.json at start
  cat "$1/facts.json"
}
health() {  # $1 = dir: every port answers with this instance's banner (a stale instance has another run id)
  local T=$1 RUN_ID A B C line
  RUN_ID=$(cat "$T/run-id"); read -r A B C < "$T/ports"
  /usr/sbin/postfix -c "$T/etc" status 2>/dev/null || return 1
  for p in "$B" "$C"; do
    { exec 3<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null || return 1   # (a bare exec 2>… would keep stderr muted)
    IFS= read -r -t 3 line <&3 || { exec 3<&-; return 1; }
    printf 'QUIT\r\n' >&3 || true; exec 3<&-
    [[ $line == "220 mail.example.test ESMTP test-$RUN_ID"* ]] || return 1
  done
  printf 'QUIT\r\n' | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$A" -CAfile "$T/tls/ca.crt" \
    -verify_return_error -verify_hostname localhost 2>/dev/null | grep -q "^220 .*test-$RUN_ID" || return 1
}

# Reuse an existing instance (idempotent start).
if [ -n "${MAILPLAN_PFX_DIR:-}" ] && [ -f "$MAILPLAN_PFX_DIR/facts.json" ]; then
  health "$MAILPLAN_PFX_DIR" && { json "$MAILPLAN_PFX_DIR"; exit 0; }
  die "$MAILPLAN_PFX_DIR holds an instance that does not answer: stop.sh it first"
fi

if [ -n "${MAILPLAN_PFX_DIR:-}" ]; then T=$MAILPLAN_PFX_DIR; mkdir -p "$T"; else T=$(mktemp -d /tmp/mailplan-pfx.XXXXXX); fi
T=$(cd "$T" && pwd -P)
chmod 0755 "$T"                     # postfix and nobody must traverse it (pitfall 4)
started=0
cleanup() {
  if [ "$started" = 1 ]; then /usr/sbin/postfix -c "$T/etc" stop >/dev/null 2>&1 || true; fi
  if [ -f "$T/log/maillog" ]; then echo "--- $T/log/maillog (tail)" >&2; tail -n 20 "$T/log/maillog" >&2; fi
  rm -rf "$T"
}
trap 'rc=$?; [ $rc = 0 ] || cleanup; exit $rc' EXIT

C=$T/etc; RUN_ID=$(basename "$T")
PASSWORD=${MAILPLAN_PFX_PASSWORD:-$(openssl rand -hex 12)}
mkdir -p "$C/sasl" "$T/tls" "$T/log" "$T/mail"
mkdir -m 0755 "$T/queue"            # postfix creates the rest below it (pitfall 1)
chown nobody:nogroup "$T/mail"      # virtual(8) delivers as nobody

# --- CA + server cert (EC P-256; SAN localhost + 127.0.0.1)
(
  cd "$T/tls"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout ca.key -out ca.crt -subj "/CN=Postfix Test CA $RUN_ID" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" > server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
    -extfile server.ext -out server.crt 2>/dev/null
  chmod 600 ca.key server.key
) || die "openssl failed"

# --- SASL: Cyrus sasldb (Debian's smtpd reads $config_directory/sasl/smtpd.conf, pitfall 6)
printf '%s\n' "pwcheck_method: auxprop" "auxprop_plugin: sasldb" \
  "sasldb_path: $C/sasl/sasldb2" "mech_list: PLAIN LOGIN" > "$C/sasl/smtpd.conf"
printf '%s' "$PASSWORD" | saslpasswd2 -p -c -f "$C/sasl/sasldb2" -u example.test "$USER_NAME"
chown root:postfix "$C/sasl/sasldb2"; chmod 0640 "$C/sasl/sasldb2"

# --- main.cf (comments on their own lines only)
cat > "$C/main.cf" <<EOF
# mailplan private test instance $RUN_ID
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
maillog_file = $T/log/maillog
maillog_file_prefixes = $T
myhostname = mail.example.test
myorigin = example.test
smtpd_banner = mail.example.test ESMTP test-$RUN_ID
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
alias_maps =
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
default_transport = error:outbound mail disabled in test instance
relay_transport = error:outbound mail disabled in test instance
virtual_mailbox_domains = example.test
virtual_mailbox_base = $T/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_tls_chain_files = $T/tls/server.key, $T/tls/server.crt
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = example.test
EOF

# --- ports: from env, or free ones below the ephemeral range; chosen and bound under one lock so that two
# parallel starts never share a port (Postfix sets SO_REUSEPORT: a 2nd master would bind silently, pitfall 8).
listening() {  # listening TCP ports (IPv4 + IPv6), one per line, from /proc (no iproute2 needed)
  local f; for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] && while read -r _ local _ st _; do
      [ "$st" = 0A ] && printf '%d\n' "0x${local##*:}"
    done < <(tail -n +2 "$f")
  done; return 0
}
exec 9>"$LOCK"
flock -w 30 9 || die "could not lock $LOCK"
busy=" $(listening | tr '\n' ' ') "
pick() {  # $1 = env value or empty
  if [ -n "$1" ]; then
    [[ $busy == *" $1 "* ]] && die "port $1 is already in use (stale instance? stop.sh it)"
    echo "$1"; return
  fi
  local p; for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    [[ $busy == *" $p "* ]] || { busy="$busy$p "; echo "$p"; return; }
  done; die "no free port found"
}
PORT_A=$(pick "${MAILPLAN_PFX_PORT_IMPLICIT:-}"); busy="$busy$PORT_A "
PORT_B=$(pick "${MAILPLAN_PFX_PORT_STARTTLS:-}"); busy="$busy$PORT_B "
PORT_C=$(pick "${MAILPLAN_PFX_PORT_PLAIN:-}")
[ "$PORT_A" != "$PORT_B" ] && [ "$PORT_B" != "$PORT_C" ] && [ "$PORT_A" != "$PORT_C" ] || die "ports must differ"
echo "$PORT_A $PORT_B $PORT_C" > "$T/ports"; echo "$RUN_ID" > "$T/run-id"

cat > "$C/master.cf" <<EOF
127.0.0.1:$PORT_A inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$PORT_B inet n - n - - smtpd -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$PORT_C inet n - n - - smtpd -o syslog_name=postfix/plain
pickup    unix  n - n 60    1 pickup
cleanup   unix  n - n -     0 cleanup
qmgr      unix  n - n 300   1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -     - trivial-rewrite
bounce    unix  - - n -     0 bounce
defer     unix  - - n -     0 bounce
trace     unix  - - n -     0 bounce
verify    unix  - - n -     1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -     - proxymap
showq     unix  n - n -     - showq
error     unix  - - n -     - error
retry     unix  - - n -     - error
discard   unix  - - n -     - discard
virtual   unix  - n n -     - virtual
anvil     unix  - - n -     1 anvil
scache    unix  - - n -     1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
touch -d '-1 minute' "$C/main.cf" "$C/master.cf"   # pitfall 3: avoids ~2 s of re-read pauses

started=1
/usr/sbin/postfix -c "$C" start >/dev/null 2>&1 || die "postfix start failed (errors go to maillog only, pitfall 2)"
flock -u 9; exec 9>&-

PID=$(tr -dc 0-9 2>/dev/null < "$T/queue/pid/master.pid" || true)
if [ -n "${MAILPLAN_PFX_OWNER:-}" ]; then
  # Watchdog: when the owner (test runner) dies without stop(), stop the instance. Own session, so that a
  # kill of the runner's process group spares it; stdio closed, so the caller's pipe reaches EOF.
  MAILPLAN_PFX_WATCHDOG=$T setsid bash -c '
    echo $$ > "$1/watchdog.pid"
    alive() { local st; read -r _ _ st _ 2>/dev/null < "/proc/$2/stat" && [ "$st" != Z ]; }
    while alive "$@" && [ -d "$1/etc" ]; do sleep 1; done
    [ -d "$1/etc" ] && MAILPLAN_PFX_FROM_WATCHDOG=1 "$3" "$1"' \
    watchdog "$T" "$MAILPLAN_PFX_OWNER" "$(cd "$(dirname "$0")" && pwd)/stop.sh" </dev/null >/dev/null 2>&1 &
fi
# Polled until it answers; the cap (400 rounds, 40 s or more) only guards against a hang: a loaded
# machine may take many seconds, and start-up time is not what the tests judge.
for _ in $(seq 400); do health "$T" && break; sleep 0.1; done
health "$T" || die "instance did not answer on 127.0.0.1:$PORT_A/$PORT_B/$PORT_C within 400 polls (40 s or more)"
if [ -n "${MAILPLAN_PFX_OWNER:-}" ]; then
  for _ in $(seq 3000); do [ -s "$T/watchdog.pid" ] && break; sleep 0.01; done
fi

q() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
printf '{"dir":%s,"ports":{"implicit":%d,"starttls":%d,"plain":%d},"ca":%s,"user":%s,"password":%s,"maildir":%s,"pid":%s,"runId":%s,"startMs":%d}\n' \
  "$(q "$T")" "$PORT_A" "$PORT_B" "$PORT_C" "$(q "$T/tls/ca.crt")" "$(q "$USER_NAME")" "$(q "$PASSWORD")" \
  "$(q "$T/mail/inbox")" "${PID:-null}" "$(q "$RUN_ID")" "$ms" > "$T/facts.json"
json "$T"
