#!/usr/bin/env bash
# build-local-image.sh: build the sandbox image offline from Debian packages (no Docker Hub needed).
#
# Usage: docker/build-local-image.sh [TAG] [--engine docker|podman|all|auto] [--force]
#        docker/build-local-image.sh --rootfs-dir DIR [--force]
#   TAG defaults to mcp-code-mode/sandbox:local.
#   --rootfs-dir DIR   no engine: write the root filesystem as a directory tree at DIR (which must not
#                      exist), with /workspace, for the bwrap runtime; no image is imported or checked.
#   ENGINE=docker|podman|all|auto   engine to import into (default auto: the one the docker CLI talks to
#                                   (DOCKER_HOST honoured), else podman; MCP_BRIDGE_RUNTIME=podman picks podman).
#   MCP_CODE_MODE_DEBIAN_MIRROR     Debian mirror for mmdebstrap (default: its own, deb.debian.org + security).
#   MCP_CODE_MODE_CACHE             where the root-fs tarball is kept for re-imports (default: <repo>/.state/cache).
#
# How: `mmdebstrap --variant=essential --include=<docker/packages.txt> bookworm rootfs.tar` (about 20 s),
# then `docker import` (or `podman import`) with LABEL mcp-code-mode.inputs=<sha256 of this script followed
# by docker/packages.txt> and CMD ["python3"]. An image with that tag and the same label is left alone
# ("sandbox image up to date"). The image is checked by running python3 as uid 65534 with no network and a
# read-only root. docker/Dockerfile is the equivalent for machines that can reach Docker Hub.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
PKG_FILE="$HERE/packages.txt"
SUITE=bookworm
LABEL_KEY=mcp-code-mode.inputs

TAG=""
MODE="${ENGINE:-auto}"
FORCE=0
ROOTFS_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rootfs-dir) ROOTFS_DIR="${2:?--rootfs-dir needs a directory}"; shift ;;
    --rootfs-dir=*) ROOTFS_DIR="${1#--rootfs-dir=}" ;;
    --engine) MODE="${2:?--engine needs docker, podman, all or auto}"; shift ;;
    --engine=*) MODE="${1#--engine=}" ;;
    --force) FORCE=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    -*) echo "build-local-image: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$TAG" ] || { echo "build-local-image: only one TAG, got '$TAG' and '$1'" >&2; exit 2; }; TAG="$1" ;;
  esac
  shift
done
TAG="${TAG:-mcp-code-mode/sandbox:local}"
case "$MODE" in docker|podman|all|auto) ;; *) echo "build-local-image: ENGINE must be docker, podman, all or auto (got '$MODE')" >&2; exit 2 ;; esac

have() { command -v "$1" >/dev/null 2>&1; }
die() { echo "build-local-image: $*" >&2; exit 1; }

[ -f "$PKG_FILE" ] || die "missing $PKG_FILE"
PACKAGES="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$PKG_FILE" | grep -v '^$' | paste -sd, -)"
[ -n "$PACKAGES" ] || die "$PKG_FILE lists no package"
INPUTS="$(cat "$SELF" "$PKG_FILE" | sha256sum | cut -d' ' -f1)"

# ---------------------------------------------------------------- engines
if [ -n "$ROOTFS_DIR" ]; then
  [ ! -e "$ROOTFS_DIR" ] || die "--rootfs-dir $ROOTFS_DIR already exists (give a new path)"
  MODE=none
fi
docker_ok() { have docker && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
podman_ok() { have podman && timeout 20 podman info >/dev/null 2>&1; }

ENGINES=()
case "$MODE" in
  none) ;;
  docker) docker_ok || die "the docker CLI does not reach an engine; run: bash scripts/ensure-engine.sh"; ENGINES=(docker) ;;
  podman) podman_ok || die "podman is not usable; run: ENGINE=podman bash scripts/ensure-engine.sh"; ENGINES=(podman) ;;
  all)
    docker_ok || die "the docker CLI does not reach an engine; run: bash scripts/ensure-engine.sh"
    podman_ok || die "podman is not usable; run: ENGINE=podman bash scripts/ensure-engine.sh"
    ENGINES=(docker podman) ;;
  auto)
    if [ "${MCP_BRIDGE_RUNTIME:-}" = podman ] && podman_ok; then ENGINES=(podman)
    elif docker_ok; then ENGINES=(docker)
    elif podman_ok; then ENGINES=(podman)
    else die "no container engine answers; run: bash scripts/ensure-engine.sh (or ENGINE=podman bash scripts/ensure-engine.sh)"
    fi ;;
esac

image_inputs() { # image_inputs CLI: prints the label of TAG, empty when the image is missing
  "$1" image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$TAG" 2>/dev/null || true
}

TODO=()
for e in "${ENGINES[@]+"${ENGINES[@]}"}"; do
  have_inputs="$(image_inputs "$e")"
  if [ "$FORCE" = 0 ] && [ "$have_inputs" = "$INPUTS" ]; then
    echo "sandbox image up to date ($TAG in $e, inputs ${INPUTS:0:12})"
  else
    TODO+=("$e")
  fi
done
[ "${#TODO[@]}" -gt 0 ] || [ -n "$ROOTFS_DIR" ] || exit 0

# ---------------------------------------------------------------- root fs tarball
CACHE="${MCP_CODE_MODE_CACHE:-$REPO/.state/cache}"
mkdir -p "$CACHE"
ROOTFS="$CACHE/sandbox-rootfs-${INPUTS:0:16}.tar"

APT_LOG=/var/log/mcp-code-mode-apt.log
# apt-get, non-interactive (needrestart suspended), output to $APT_LOG; its tail is shown on failure.
apt_quiet() {
  if DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get -q "$@" </dev/null >>"$APT_LOG" 2>&1; then return 0; fi
  tail -n 15 "$APT_LOG" >&2; return 1
}

APT_UPDATED=0
apt_install() {
  if [ "$(id -u)" != 0 ] || ! have apt-get; then
    die "$* is missing; install it (Debian/Ubuntu: sudo apt-get install -y $*) and re-run"
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    echo "installing $*: apt-get update..."
    apt_quiet update || die "apt-get update failed (log: $APT_LOG)"
    APT_UPDATED=1
  fi
  echo "installing $*: apt-get install -y $*..."
  apt_quiet install -y --no-install-recommends "$@" || die "apt-get install $* failed (log: $APT_LOG)"
}

if [ -s "$ROOTFS" ] && [ "$FORCE" = 0 ]; then
  echo "reusing root fs $ROOTFS"
else
  have mmdebstrap || apt_install mmdebstrap
  [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || apt_install debian-archive-keyring
  if [ "$(id -u)" != 0 ]; then
    echo "note: not root; mmdebstrap will use its unshare mode (needs subuid/subgid ranges for $(id -un))"
  fi
  echo "building sandbox image from Debian packages (about 20 s): $SUITE essential + $PACKAGES..."
  start=$SECONDS
  tmp="$CACHE/.building-$$.tar"
  log="$CACHE/mmdebstrap.log"
  trap 'rm -f "$tmp"' EXIT
  mirror=()
  hooks=()
  # merged /usr through mmdebstrap's own hook: avoids the usrmerge package, which drags in perl (~50 MB)
  [ -x /usr/share/mmdebstrap/hooks/merged-usr/setup00.sh ] && hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  [ -n "${MCP_CODE_MODE_DEBIAN_MIRROR:-}" ] && mirror=("$MCP_CODE_MODE_DEBIAN_MIRROR")
  if ! mmdebstrap --variant=essential --include="$PACKAGES" "${hooks[@]}" \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      "$SUITE" "$tmp" "${mirror[@]}" </dev/null >"$log" 2>&1; then
    tail -n 25 "$log" >&2
    die "mmdebstrap failed (full log: $log). It needs a reachable Debian mirror (set MCP_CODE_MODE_DEBIAN_MIRROR) and root or subuids."
  fi
  rm -f "$CACHE"/sandbox-rootfs-*.tar   # keep only the current inputs' tarball
  mv "$tmp" "$ROOTFS"
  trap - EXIT
  echo "root fs built in $((SECONDS - start)) s ($(du -h "$ROOTFS" | cut -f1))"
fi

# ---------------------------------------------------------------- root fs tree (bwrap), or import + check
if [ -n "$ROOTFS_DIR" ]; then
  aside="$ROOTFS_DIR.building-$$"
  trap 'rm -rf "$aside"' EXIT
  mkdir -p "$aside"
  tar -x -C "$aside" --numeric-owner -f "$ROOTFS" || die "cannot unpack $ROOTFS into $aside"
  mkdir -p "$aside/workspace" "$aside/tmp"
  chmod 0755 "$aside" "$aside/workspace"
  chmod 1777 "$aside/tmp"
  mv -T "$aside" "$ROOTFS_DIR" || die "cannot move the tree to $ROOTFS_DIR"
  trap - EXIT
  echo "sandbox root fs ready: $ROOTFS_DIR (inputs ${INPUTS:0:12})"
  exit 0
fi

CHANGES=(
  --change "LABEL $LABEL_KEY=$INPUTS"
  --change "LABEL org.opencontainers.image.title=mcp-code-mode-sandbox"
  --change "LABEL org.opencontainers.image.description=\"Debian $SUITE essential + $PACKAGES, built by docker/build-local-image.sh\""
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --change "ENV LANG=C.UTF-8"
  --change 'CMD ["python3"]'
)
# Explicit, modest ulimits: podman's defaults (and anything above the engine process's own hard limits)
# fail without CAP_SYS_RESOURCE with runc "error setting rlimits for ready process ... operation not permitted".
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
CHECK_PY='import asyncio, json, zlib, base64, ssl, os; print("ok", os.getuid())'

for e in "${TODO[@]}"; do
  echo "importing root fs into $e as $TAG..."
  old_id="$("$e" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
  quiet=(); [ "$e" = podman ] && quiet=(--quiet)
  "$e" import "${quiet[@]}" "${CHANGES[@]}" "$ROOTFS" "$TAG" >/dev/null || die "$e import failed"
  echo "checking: python3 as uid 65534, no network, read-only root..."
  out="$("$e" run --rm --user 65534:65534 --network none --read-only --cap-drop ALL \
           --security-opt no-new-privileges "${ULIMITS[@]}" \
           "$TAG" python3 -c "$CHECK_PY" 2>&1)" \
    || { "$e" rmi "$TAG" >/dev/null 2>&1 || true; die "the new image does not run python3 as uid 65534 in $e (image removed): $out"; }
  [ "$out" = "ok 65534" ] || { "$e" rmi "$TAG" >/dev/null 2>&1 || true; die "unexpected check output from $e (image removed): $out"; }
  if [ -n "$old_id" ] && [ "$old_id" != "$("$e" image inspect --format '{{.Id}}' "$TAG")" ]; then
    "$e" rmi "$old_id" >/dev/null 2>&1 || true   # the previous build, now untagged (kept if a container uses it)
  fi
  echo "sandbox image ready: $TAG in $e ($LABEL_KEY=${INPUTS:0:12}...)"
done
