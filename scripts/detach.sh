# shellcheck shell=bash
# detach.sh — sourced by the test-server scripts (etcd.sh, s3rver.sh,
# ceph-rgw.sh); not run on its own.
#
# detach PIDFILE OUT CMD...   run CMD in a session of its own, in the
#                             background, stdin from /dev/null and stdout and
#                             stderr appended to OUT; write CMD's own PID to
#                             PIDFILE and return once it is there.
# pid_runs PIDFILE NEEDLE     0 when the process whose PID is in PIDFILE is
#                             alive and its command line contains NEEDLE.
#
# `setsid CMD &` and then `$!` is not enough: setsid forks when it starts as
# a process-group leader (any background job under job control, `bash -m`),
# so `$!` can name a setsid that has already exited while the server runs
# on. Here the shell that becomes CMD writes its own PID, then execs CMD.

detach() {
  local pidfile=$1 out=$2
  shift 2
  rm -f -- "$pidfile"
  # shellcheck disable=SC2016  # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1.tmp" && mv -f "$1.tmp" "$1" && shift && exec "$@"' \
    detach "$pidfile" "$@" </dev/null >>"$out" 2>&1 &
  for _ in $(seq 200); do
    [[ -s $pidfile ]] && return 0
    sleep 0.05
  done
  echo "detach: $1 did not start (no PID in $pidfile after 10 s)" >&2
  return 1
}

pid_runs() {
  local pid try
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # A command line reads empty in the middle of an exec: ask twice.
  for try in 1 2; do
    [[ -d /proc/$pid ]] || return 1
    grep -qa -- "$2" "/proc/$pid/cmdline" 2>/dev/null && return 0
    [[ $try = 2 ]] || sleep 0.1
  done
  return 1
}
