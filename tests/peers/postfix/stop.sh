#!/usr/bin/env bash
# Stops a private Postfix instance started by start.sh and removes its directory. Idempotent: exit 0 when the
# instance is already stopped or the directory is gone.  Usage: stop.sh DIR [--keep]   (--keep: leave DIR)
#   stop.sh --all   stops every /tmp/mailplan-pfx.* instance (manual clean-up; not for use inside tests).
set -uo pipefail
die() { echo "postfix/stop.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: stop.sh DIR [--keep] | --all"
if [ "$1" = --all ]; then
  rc=0; for d in /tmp/mailplan-pfx.*/; do [ -d "$d" ] && { "$0" "${d%/}" || rc=1; }; done; exit $rc
fi
T=${1%/}; keep=${2:-}
[ -e "$T" ] || exit 0
[ -f "$T/etc/main.cf" ] && grep -q '^# mailplan private test instance' "$T/etc/main.cf" \
  || die "$T is not a mailplan Postfix instance (refusing to touch it)"
C=$T/etc
pid=$(tr -dc 0-9 2>/dev/null < "$T/queue/pid/master.pid" || true)
ours() {  # $1 = pid: a process of this instance (postfix-script exports MAIL_CONFIG to the master and its children)
  tr '\0' '\n' 2>/dev/null < "/proc/$1/environ" | grep -qx "MAIL_CONFIG=$C"
}
# Same as `postfix -c $C stop` (SIGTERM to the master, which SIGTERMs its process group), but polled every
# 20 ms: postfix-script checks once, then sleeps a whole second whenever the master has busy children.
running() {  # $1 = process group: any member that is not a zombie? (an orphaned child stays a zombie until
  # PID 1 reaps it, which took ~1.5 s in our sandbox: `kill -0` alone would count those as running)
  local s st pg; for s in /proc/[0-9]*/stat; do
    read -r _ _ st _ pg _ 2>/dev/null < "$s" && [ "$pg" = "$1" ] && [ "$st" != Z ] && return 0
  done; return 1
}
if [ -n "$pid" ] && ours "$pid"; then
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 250); do running "$pid" || break; sleep 0.02; done
  running "$pid" && kill -9 -- "-$pid" 2>/dev/null
  for _ in $(seq 1500); do running "$pid" || break; sleep 0.02; done   # after SIGKILL: until reaped (a hang guard)
elif /usr/sbin/postfix -c "$C" status >/dev/null 2>&1; then   # no pid file: the slow way (stop on a stopped instance exits 1, pitfall 10)
  /usr/sbin/postfix -c "$C" stop >/dev/null 2>&1 || true
fi
# the owner watchdog (start.sh, MAILPLAN_PFX_OWNER) and its sleep: kill its whole session/group
w=$(tr -dc 0-9 2>/dev/null < "$T/watchdog.pid" || true)
if [ -n "$w" ] && [ -z "${MAILPLAN_PFX_FROM_WATCHDOG:-}" ] \
  && tr '\0' '\n' 2>/dev/null < "/proc/$w/environ" | grep -qx "MAILPLAN_PFX_WATCHDOG=$T"; then
  kill -TERM -- "-$w" 2>/dev/null
  for _ in $(seq 1500); do running "$w" || break; sleep 0.02; done
fi
[ "$keep" = --keep ] || rm -rf "$T"
exit 0
