#!/usr/bin/env bash
# ensure-engine.sh: make sure a container engine answers the Docker-compatible API.
#
# Usage: scripts/ensure-engine.sh [docker|podman|all|auto] [--no-install] [--check-only] [--print-host]
#   ENGINE=docker|podman|all|auto    same as the positional argument (default: auto)
#   MCP_BRIDGE_RUNTIME=docker|podman|/path/to.sock   engine the daemon will use (honoured first)
#   DOCKER_HOST=unix:///...|tcp://...                 honoured when set (no fallback to other sockets)
#   MCP_CODE_MODE_NO_INSTALL=1  (--no-install)  never apt-get install anything (may still start a daemon)
#   MCP_CODE_MODE_CHECK_ONLY=1  (--check-only)  neither install nor start; only report
#   --print-host   print the answering endpoint (unix:///... or tcp://...) on stdout, messages on stderr
#   ENGINE_WAIT_SECONDS=60      how long to wait for a started daemon
#
# Order (auto): MCP_BRIDGE_RUNTIME, DOCKER_HOST (only that, when set), /var/run/docker.sock,
# /run/podman/podman.sock, $XDG_RUNTIME_DIR/podman/podman.sock, $XDG_RUNTIME_DIR/docker.sock. If none answers and we are root
# on Debian/Ubuntu: install docker.io if dockerd is missing and start dockerd (systemctl when systemd
# really runs, else nohup in the background). ENGINE=podman installs podman if missing and serves its
# Docker-compatible API on /run/podman/podman.sock (rootless: $XDG_RUNTIME_DIR/podman/podman.sock).
# Podman also gets catatonit (its --init binary). Docker and Podman may run side by side.
# Logs: /var/log/mcp-code-mode-{dockerd,podman,apt}.log. Exit 0 when an engine answers, 1 otherwise
# (with what to install or start).
set -euo pipefail

MODE="${ENGINE:-auto}"
NO_INSTALL="${MCP_CODE_MODE_NO_INSTALL:-0}"
CHECK_ONLY="${MCP_CODE_MODE_CHECK_ONLY:-0}"
PRINT_HOST=0
WAIT_SECONDS="${ENGINE_WAIT_SECONDS:-60}"

for arg in "$@"; do
  case "$arg" in
    docker|podman|all|auto) MODE="$arg" ;;
    --no-install) NO_INSTALL=1 ;;
    --check-only) CHECK_ONLY=1; NO_INSTALL=1 ;;
    --print-host) PRINT_HOST=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "ensure-engine: unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
case "$MODE" in docker|podman|all|auto) ;; *) echo "ensure-engine: ENGINE must be docker, podman, all or auto (got '$MODE')" >&2; exit 2 ;; esac
[ "$CHECK_ONLY" = 1 ] && NO_INSTALL=1

DOCKER_SOCK=/var/run/docker.sock
PODMAN_SOCK=/run/podman/podman.sock
DOCKERD_LOG=/var/log/mcp-code-mode-dockerd.log
PODMAN_LOG=/var/log/mcp-code-mode-podman.log
IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1
XRD="${XDG_RUNTIME_DIR:-}"
if [ -z "$XRD" ] && [ "$IS_ROOT" = 0 ] && [ -d "/run/user/$(id -u)" ]; then XRD="/run/user/$(id -u)"; fi
ROOTLESS_PODMAN_SOCK="${XRD:+$XRD/podman/podman.sock}"
ROOTLESS_DOCKER_SOCK="${XRD:+$XRD/docker.sock}"

# Messages go to stderr when stdout carries the endpoint (--print-host).
say() { if [ "$PRINT_HOST" = 1 ]; then echo "$*" >&2; else echo "$*"; fi; }
warn() { echo "ensure-engine: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- probes
# ping_unix SOCK: 0 when GET /_ping on the Unix socket answers OK (curl, else node, else docker CLI).
ping_unix() {
  local sock="$1"
  [ -S "$sock" ] || return 1
  if have curl; then
    [ "$(curl -s --max-time 3 --unix-socket "$sock" http://d/_ping 2>/dev/null)" = OK ]
  elif have node; then
    node -e '
      const req = require("http").get({ socketPath: process.argv[1], path: "/_ping", timeout: 3000 }, (res) => {
        let b = ""; res.on("data", (c) => (b += c)); res.on("end", () => process.exit(b.trim() === "OK" ? 0 : 1));
      });
      req.on("error", () => process.exit(1)); req.on("timeout", () => process.exit(1));' "$sock" 2>/dev/null
  elif have docker; then
    timeout 5 docker -H "unix://$sock" version >/dev/null 2>&1
  else
    return 1
  fi
}

# ping_host URI: unix://, tcp://, ssh:// or a bare socket path.
ping_host() {
  local h="$1"
  case "$h" in
    unix://*) ping_unix "${h#unix://}" ;;
    /*) ping_unix "$h" ;;
    tcp://*|http://*|https://*|ssh://*)
      if have docker; then
        DOCKER_HOST="$h" timeout 10 docker version >/dev/null 2>&1
      elif have curl && [ "${h#tcp://}" != "$h" ]; then
        [ "$(curl -s --max-time 3 "http://${h#tcp://}/_ping" 2>/dev/null)" = OK ]
      else
        return 1
      fi ;;
    *) return 1 ;;
  esac
}

to_uri() { case "$1" in /*) echo "unix://$1" ;; *) echo "$1" ;; esac; }

found() { # found URI WHAT
  local uri; uri="$(to_uri "$1")"
  say "container engine: $2 answers at $uri"
  [ "$PRINT_HOST" = 1 ] && echo "$uri"
  return 0
}

# ---------------------------------------------------------------- helpers to install / start
systemd_works() {
  have systemctl || return 1
  pidof systemd >/dev/null 2>&1 || [ -d /run/systemd/system ] || return 1
  local s; s="$(systemctl is-system-running 2>/dev/null || true)"
  case "$s" in running|degraded|starting|initializing) return 0 ;; *) return 1 ;; esac
}

APT_LOG=/var/log/mcp-code-mode-apt.log
# apt-get, non-interactive (needrestart suspended), output to $APT_LOG; its tail is shown on failure.
apt_quiet() {
  if DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -q "$@" </dev/null >>"$APT_LOG" 2>&1; then return 0; fi
  tail -n 15 "$APT_LOG" >&2; return 1
}

APT_UPDATED=0
apt_install() { # apt_install PKG...
  if [ "$NO_INSTALL" = 1 ]; then warn "would install $* but installing is disabled (MCP_CODE_MODE_NO_INSTALL / --no-install)"; return 1; fi
  if [ "$IS_ROOT" != 1 ] || ! have apt-get; then return 1; fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "installing $*: apt-get update..."
    apt_quiet update || { warn "apt-get update failed (log: $APT_LOG)"; return 1; }
    APT_UPDATED=1
  fi
  say "installing $*: apt-get install -y $*..."
  apt_quiet install -y --no-install-recommends "$@" || { warn "apt-get install $* failed (log: $APT_LOG)"; return 1; }
}

# wait_for URI WHAT PID: poll until it answers; dots every second, a line every 5 s.
wait_for() {
  local uri="$1" what="$2" pid="${3:-}" i=0
  while [ "$i" -lt "$WAIT_SECONDS" ]; do
    if ping_host "$uri"; then [ "$i" -gt 0 ] && echo >&2; return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo >&2; warn "$what exited while starting"; return 1
    fi
    if [ $((i % 5)) -eq 0 ]; then printf 'waiting for %s (%ss)' "$what" "$i" >&2; else printf '.' >&2; fi
    [ $((i % 5)) -eq 4 ] && echo >&2
    sleep 1; i=$((i + 1))
  done
  echo >&2; warn "$what did not answer within ${WAIT_SECONDS}s"; return 1
}

docker_help() {
  cat >&2 <<EOF
ensure-engine: no Docker engine answers${1:+ ($1)}.
  Debian/Ubuntu (as root):  apt-get update && apt-get install -y docker.io
                            then: systemctl start docker   (or, without systemd: nohup dockerd >$DOCKERD_LOG 2>&1 &)
  Rootless Docker:          dockerd-rootless-setuptool.sh install, then export DOCKER_HOST=unix://\$XDG_RUNTIME_DIR/docker.sock
  Or use Podman:            apt-get install -y podman && ENGINE=podman bash scripts/ensure-engine.sh
                            (serves the Docker API: podman system service --time=0 unix://$PODMAN_SOCK)
  Non-root users need access to $DOCKER_SOCK (group 'docker') or a rootless engine.
EOF
}

podman_help() {
  cat >&2 <<EOF
ensure-engine: no Podman API socket answers${1:+ ($1)}.
  Install:  apt-get update && apt-get install -y podman      (Debian/Ubuntu, as root)
  Serve:    podman system service --time=0 unix://$PODMAN_SOCK &          (root)
            podman system service --time=0 unix://\$XDG_RUNTIME_DIR/podman/podman.sock &   (rootless)
            or: systemctl enable --now podman.socket   (systemctl --user for rootless)
EOF
}

# ---------------------------------------------------------------- docker
start_dockerd() {
  [ "$CHECK_ONLY" = 1 ] && { warn "dockerd is not answering and starting is disabled (--check-only)"; return 1; }
  [ "$IS_ROOT" = 1 ] || { warn "not root: cannot start dockerd"; return 1; }
  if ! have dockerd; then
    have apt-get || { warn "dockerd is not installed and apt-get is not available"; return 1; }
    # ca-certificates for pulls; cgroupfs-mount for cgroup v1 machines without systemd (both only Recommends)
    apt_install docker.io ca-certificates cgroupfs-mount || { warn "could not install docker.io"; return 1; }
    # docker.io's postinst may already have started it (init script)
    if ping_unix "$DOCKER_SOCK"; then say "container engine: installed docker.io; dockerd answers at unix://$DOCKER_SOCK"; return 0; fi
  fi
  if systemd_works && systemctl start docker >&2 2>&1; then
    say "started dockerd via systemctl"
    wait_for "unix://$DOCKER_SOCK" dockerd "" && return 0
  fi
  local pid
  if pid="$(pidof dockerd 2>/dev/null)"; then
    say "dockerd is running (pid $pid) but $DOCKER_SOCK does not answer yet"
    wait_for "unix://$DOCKER_SOCK" dockerd "${pid%% *}" && return 0
    warn "dockerd (pid $pid) runs but does not answer; see its log ($DOCKERD_LOG?)"; return 1
  fi
  ensure_cgroups
  rm -f "$DOCKER_SOCK" 2>/dev/null || true
  say "starting dockerd in the background (log: $DOCKERD_LOG)"
  # From /: an engine writes stray files into its working directory (an empty `oom` after an OOM kill).
  (cd / && exec nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null) &
  pid=$!
  disown "$pid" 2>/dev/null || true
  if wait_for "unix://$DOCKER_SOCK" dockerd "$pid"; then return 0; fi
  warn "last lines of $DOCKERD_LOG:"; tail -n 15 "$DOCKERD_LOG" >&2 || true
  return 1
}

# Without systemd nothing may have mounted the cgroup hierarchy that dockerd needs.
ensure_cgroups() {
  [ -e /sys/fs/cgroup/cgroup.controllers ] && return 0             # cgroup v2 mounted
  [ -d /sys/fs/cgroup/memory ] || [ -d /sys/fs/cgroup/cpu ] && return 0   # cgroup v1 mounted
  if have cgroupfs-mount; then say "mounting cgroups (cgroupfs-mount)"; cgroupfs-mount >&2 || true; return 0; fi
  if grep -qw cgroup2 /proc/filesystems; then
    say "mounting cgroup2 on /sys/fs/cgroup"
    mount -t cgroup2 none /sys/fs/cgroup >&2 || warn "could not mount cgroup2 on /sys/fs/cgroup"
  fi
}

ensure_docker() {
  # An explicit DOCKER_HOST is honoured as-is (no silent fallback to other sockets).
  if [ -n "${DOCKER_HOST:-}" ] && [ "$MODE" != podman ]; then
    if ping_host "$DOCKER_HOST"; then found "$DOCKER_HOST" "engine named by DOCKER_HOST"; return 0; fi
    case "$DOCKER_HOST" in
      "unix://$DOCKER_SOCK"|"unix:///run/docker.sock")
        start_dockerd && { found "$DOCKER_HOST" "dockerd"; return 0; } ;;
      "unix://$PODMAN_SOCK"|"unix://$ROOTLESS_PODMAN_SOCK")
        start_podman && { found "$DOCKER_HOST" "podman"; return 0; } ;;
    esac
    warn "DOCKER_HOST=$DOCKER_HOST does not answer. Start the engine it names, or unset DOCKER_HOST to auto-detect."
    docker_help "DOCKER_HOST=$DOCKER_HOST"
    return 1
  fi
  if ping_unix "$DOCKER_SOCK"; then found "$DOCKER_SOCK" "docker"; return 0; fi
  return 1
}

ensure_rootless_docker() {
  if [ -n "$ROOTLESS_DOCKER_SOCK" ] && ping_unix "$ROOTLESS_DOCKER_SOCK"; then found "$ROOTLESS_DOCKER_SOCK" "rootless docker"; return 0; fi
  return 1
}

# ---------------------------------------------------------------- podman
# podman's --init needs /usr/libexec/podman/catatonit (package catatonit); best effort, never fatal.
ensure_catatonit() {
  [ -x /usr/libexec/podman/catatonit ] && return 0
  grep -qs '^[[:space:]]*init_path' /etc/containers/containers.conf /usr/share/containers/containers.conf && return 0
  if [ "$IS_ROOT" = 1 ] && have apt-get && [ "$NO_INSTALL" != 1 ]; then
    apt_install catatonit >&2 || warn "could not install catatonit; podman containers started with --init will fail"
  else
    warn "/usr/libexec/podman/catatonit is missing: podman --init will fail (install the catatonit package)"
  fi
}

podman_target_sock() { if [ "$IS_ROOT" = 1 ]; then echo "$PODMAN_SOCK"; else echo "$ROOTLESS_PODMAN_SOCK"; fi; }

start_podman() {
  [ "$CHECK_ONLY" = 1 ] && { warn "podman API is not answering and starting is disabled (--check-only)"; return 1; }
  local sock; sock="$(podman_target_sock)"
  [ -n "$sock" ] || { warn "no XDG_RUNTIME_DIR: cannot place a rootless podman socket"; return 1; }
  if ! have podman; then
    # catatonit: podman's --init binary (only a Recommends; without it `--init` fails at create)
    apt_install podman catatonit || { warn "podman is not installed and could not be installed"; return 1; }
  fi
  ensure_catatonit
  if [ "$IS_ROOT" = 1 ] && systemd_works && systemctl start podman.socket >&2 2>&1 && ping_unix "$sock"; then
    say "started podman.socket via systemctl"; return 0
  fi
  mkdir -p "$(dirname "$sock")"
  rm -f "$sock" 2>/dev/null || true
  local log="$PODMAN_LOG"; [ "$IS_ROOT" = 1 ] || log="$(dirname "$sock")/mcp-code-mode-podman.log"
  say "starting podman system service in the background: unix://$sock (log: $log)"
  (cd / && exec nohup podman system service --time=0 "unix://$sock" >>"$log" 2>&1 </dev/null) &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  if wait_for "unix://$sock" "podman service" "$pid"; then return 0; fi
  warn "last lines of $log:"; tail -n 15 "$log" >&2 || true
  return 1
}

ensure_podman() {
  if ping_unix "$PODMAN_SOCK"; then
    [ "$CHECK_ONLY" = 1 ] || ensure_catatonit
    found "$PODMAN_SOCK" "podman (rootful)"; return 0
  fi
  if [ -n "$ROOTLESS_PODMAN_SOCK" ] && ping_unix "$ROOTLESS_PODMAN_SOCK"; then found "$ROOTLESS_PODMAN_SOCK" "podman (rootless)"; return 0; fi
  return 1
}

# ---------------------------------------------------------------- main
# MCP_BRIDGE_RUNTIME narrows the choice when ENGINE is auto.
if [ "$MODE" = auto ] && [ -n "${MCP_BRIDGE_RUNTIME:-}" ]; then
  case "$MCP_BRIDGE_RUNTIME" in
    docker) MODE=docker ;;
    podman) MODE=podman ;;
    unix://*|/*)
      s="$MCP_BRIDGE_RUNTIME"; s="${s#unix://}"
      if ping_unix "$s"; then found "$s" "engine named by MCP_BRIDGE_RUNTIME"; exit 0; fi
      case "$s" in
        "$DOCKER_SOCK"|/run/docker.sock) start_dockerd && { found "$s" dockerd; exit 0; } ;;
        "$PODMAN_SOCK"|"$ROOTLESS_PODMAN_SOCK") start_podman && { found "$s" podman; exit 0; } ;;
      esac
      warn "MCP_BRIDGE_RUNTIME=$MCP_BRIDGE_RUNTIME does not answer. Start the engine serving that socket, or unset MCP_BRIDGE_RUNTIME to auto-detect."
      exit 1 ;;
    *) warn "MCP_BRIDGE_RUNTIME must be docker, podman or a socket path (got '$MCP_BRIDGE_RUNTIME')"; exit 2 ;;
  esac
fi

# register_runsc: for the tests only (SETUP_FOR_TESTS=1, root, the system dockerd): installs runsc
# (gVisor; Debian's build runs here with the ptrace platform), adds it to /etc/docker/daemon.json
# (merged with what is there) and reloads dockerd with SIGHUP, which re-reads runtimes without
# stopping any container. Never restarts dockerd. Failing here only skips the gVisor tests.
# --network=none: this runsc refuses Docker's `none` network here ("cannot run with network enabled
# in root network namespace"); gVisor's own none mode gives loopback only, which is what sandboxes get anyway.
register_runsc() {
  [ "${SETUP_FOR_TESTS:-0}" = 1 ] && [ "$IS_ROOT" = 1 ] && [ -S "$DOCKER_SOCK" ] || return 0
  if curl -s --max-time 5 --unix-socket "$DOCKER_SOCK" http://d/info 2>/dev/null | grep -q '"runsc"'; then say "runsc (gVisor) is registered with dockerd"; return 0; fi
  if ! have runsc; then
    have apt-get || { warn "runsc missing and no apt-get: the gVisor tests are skipped"; return 0; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >>/var/log/mcp-code-mode-apt.log 2>&1 \
      || { warn "could not install runsc: the gVisor tests are skipped"; return 0; }
  fi
  mkdir -p /etc/docker
  node -e '
    const fs = require("fs"); const file = "/etc/docker/daemon.json";
    const conf = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
    conf.runtimes = { ...conf.runtimes, runsc: { path: process.argv[1], runtimeArgs: ["--platform=ptrace", "--network=none"] } };
    fs.writeFileSync(file, JSON.stringify(conf, null, 2) + "\n");' "$(command -v runsc)"
  local pid; pid="$(cat /var/run/docker.pid 2>/dev/null || pgrep -o -x dockerd || true)"
  [ -n "$pid" ] || { warn "no dockerd pid found to reload: the gVisor tests are skipped"; return 0; }
  kill -HUP "$pid"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -s --max-time 5 --unix-socket "$DOCKER_SOCK" http://d/info 2>/dev/null | grep -q '"runsc"' && { say "runsc (gVisor) registered with dockerd (reloaded, no restart)"; return 0; }
    sleep 0.5
  done
  warn "dockerd did not pick up runsc after SIGHUP (see $DOCKERD_LOG): the gVisor tests are skipped"
}

run_docker() {
  ensure_docker && { register_runsc; return 0; }
  [ -n "${DOCKER_HOST:-}" ] && return 1   # explicit DOCKER_HOST already reported
  ensure_rootless_docker && return 0
  start_dockerd && { found "$DOCKER_SOCK" "dockerd"; register_runsc; return 0; }
  docker_help; return 1
}

run_podman() {
  ensure_podman && return 0
  start_podman && { found "$(podman_target_sock)" "podman"; return 0; }
  podman_help "checked $PODMAN_SOCK${ROOTLESS_PODMAN_SOCK:+, $ROOTLESS_PODMAN_SOCK}"; return 1
}

case "$MODE" in
  docker) run_docker ;;
  podman) run_podman ;;
  all)
    rc=0
    run_docker || rc=1
    if [ "$PRINT_HOST" = 1 ]; then   # with --print-host, stdout carries only docker's endpoint
      PRINT_HOST=0; run_podman >&2 || rc=1; PRINT_HOST=1
    else
      run_podman || rc=1
    fi
    exit $rc ;;
  auto)
    ensure_docker && exit 0
    [ -n "${DOCKER_HOST:-}" ] && exit 1
    ensure_podman && exit 0
    ensure_rootless_docker && exit 0
    # Nothing answers. As root on Debian/Ubuntu: install/start Docker. A machine that only has podman gets podman.
    if ! have dockerd && have podman && { [ "$IS_ROOT" = 1 ] || [ -n "$ROOTLESS_PODMAN_SOCK" ]; }; then
      start_podman && { found "$(podman_target_sock)" "podman"; exit 0; }
    fi
    if [ "$IS_ROOT" = 1 ] && { have dockerd || have apt-get; }; then
      start_dockerd && { found "$DOCKER_SOCK" "dockerd"; exit 0; }
    fi
    docker_help "checked $DOCKER_SOCK, $PODMAN_SOCK${ROOTLESS_PODMAN_SOCK:+, $ROOTLESS_PODMAN_SOCK}${ROOTLESS_DOCKER_SOCK:+, $ROOTLESS_DOCKER_SOCK}"
    exit 1 ;;
esac
