# Shell helpers shared by scripts/test-services.sh and scripts/consumer-test.sh. Source it after
# setting SCRIPT_NAME (the prefix of messages) and LOG_DIR (where apt's log goes).

say() { echo "${SCRIPT_NAME:-script}: $*" >&2; }
die() { say "$*"; exit 1; }
now_ms() { date +%s%3N; }
since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# fail_log LOG MESSAGE: print MESSAGE and the tail of LOG, then exit 1.
fail_log() {
  say "$2 (log: $1)"
  tail -n "${3:-40}" "$1" 2>/dev/null | sed 's/^/    /' >&2 || true
  exit 1
}

# logged LOG CMD...: run CMD with its output appended to LOG; on failure show the tail and exit.
logged() {
  local log=$1; shift
  echo "+ [$(date +%T.%3N)] $*" >>"$log"
  "$@" >>"$log" 2>&1 || fail_log "$log" "failed (exit $?): $*"
}

# running PID: the process exists and is not a zombie.
running() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root"; }

apt_install() {
  need_root "apt-get install $*"
  local log=$LOG_DIR/apt.log
  export DEBIAN_FRONTEND=noninteractive
  echo "+ apt-get install $*" >>"$log"
  if ! apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1; then
    logged "$log" apt-get update -qq
    logged "$log" apt-get install -y -qq --no-install-recommends "$@"
  fi
}

# pid_alive PIDFILE NAME: the pid in PIDFILE runs a command line containing NAME.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

# rm_tree DIR: remove a scratch tree, unmounting anything a failed debootstrap left mounted in it.
rm_tree() {
  local dir=$1 m
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd -P)
  for m in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$dir"
}

# spawn LOG CMD...: start CMD as a daemon ($! is its pid): own session, so it outlives this script
# and the test runner's process group; output to LOG; no inherited descriptors (the lock fd, or a
# caller's pipe that would keep the caller waiting for EOF).
spawn() {
  local log=$1; shift
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
    done
    exec setsid nohup "$@"
  ) >>"$log" 2>&1 </dev/null &
}
