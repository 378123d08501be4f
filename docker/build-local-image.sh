#!/usr/bin/env bash
# build-local-image.sh: build the sandbox image offline from Debian packages (no Docker Hub needed).
#
# Usage: docker/build-local-image.sh [TAG] [--profile base|data] [--extra-packages 'a b,c']
#          [--pip-requirements FILE [--pip-find-links DIR]] [--engine docker|podman|all|auto] [--force] [--print-inputs]
#   TAG defaults to mcp-code-mode/sandbox:local (profile base) or mcp-code-mode/sandbox:data (profile data).
#   --profile base|data             base: python3 (docker/packages.txt); data: also docker/packages-data.txt
#                                   (numpy, pandas, matplotlib with Agg, scipy, Pillow, openpyxl, lxml, bs4, PyYAML).
#   --extra-packages LIST           more Debian package names, comma or space separated.
#   --pip-requirements FILE         installed with pip (Debian's python3-pip, in the build root only) into
#                                   /usr/local of the image; from the index PIP_INDEX_URL names (else PyPI),
#                                   or with --pip-find-links DIR from that wheelhouse only (--no-index).
#   --print-inputs                  print the inputs hash and exit (no engine needed).
#        docker/build-local-image.sh --rootfs-dir DIR [same options]
#   --rootfs-dir DIR                no engine: write the root filesystem as a directory tree at DIR (which must
#                                   not exist), with /workspace, for the bwrap runtime; no image is imported.
#   ENGINE=docker|podman|all|auto   engine to import into (default auto: the one the docker CLI talks to
#                                   (DOCKER_HOST honoured), else podman; MCP_BRIDGE_RUNTIME=podman picks podman).
#   MCP_CODE_MODE_DEBIAN_MIRROR     Debian mirror for mmdebstrap (default: its own, deb.debian.org + security).
#   MCP_CODE_MODE_CACHE             where the root-fs tarball is kept for re-imports (default: <repo>/.state/cache).
#
# How: `mmdebstrap --variant=essential --include=<packages> bookworm rootfs.tar` (about 20 s for base),
# then `docker import` (or `podman import`) with LABEL mcp-code-mode.inputs=<sha256 of this script, the
# profile's package files, and the user's packages: extra names, requirements file, wheel files> and
# CMD ["python3"]; labels mcp-code-mode.profile, .extra-packages and .pip-packages say what it holds. An
# image with that tag and the same inputs label is left alone ("sandbox image up to date"). The image is
# checked by running python3 as uid 65534 with no network, a read-only root and a tmpfs /tmp (the data
# profile: docker/check-data.py imports every module). docker/Dockerfile is the equivalent for machines
# that can reach Docker Hub.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
PIP_HOOK="$HERE/pip-install-hook.sh"
SUITE=bookworm
LABEL_KEY=mcp-code-mode.inputs

TAG=""
MODE="${ENGINE:-auto}"
FORCE=0
PROFILE=base
STAND_INS=()   # empty packages (docker/stand-ins/NAME) that satisfy a dependency nothing uses at run time
EXTRA_RAW=""
PIP_REQ=""
PIP_LINKS=""
PRINT_INPUTS=0
ROOTFS_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rootfs-dir) ROOTFS_DIR="${2:?--rootfs-dir needs a directory}"; shift ;;
    --rootfs-dir=*) ROOTFS_DIR="${1#--rootfs-dir=}" ;;
    --engine) MODE="${2:?--engine needs docker, podman, all or auto}"; shift ;;
    --engine=*) MODE="${1#--engine=}" ;;
    --force) FORCE=1 ;;
    --profile) PROFILE="${2:?--profile needs base or data}"; shift ;;
    --profile=*) PROFILE="${1#--profile=}" ;;
    --extra-packages) EXTRA_RAW="${2?--extra-packages needs a list}"; shift ;;
    --extra-packages=*) EXTRA_RAW="${1#--extra-packages=}" ;;
    --pip-requirements) PIP_REQ="${2:?--pip-requirements needs a file}"; shift ;;
    --pip-requirements=*) PIP_REQ="${1#--pip-requirements=}" ;;
    --pip-find-links) PIP_LINKS="${2:?--pip-find-links needs a directory}"; shift ;;
    --pip-find-links=*) PIP_LINKS="${1#--pip-find-links=}" ;;
    --print-inputs) PRINT_INPUTS=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$SELF"; exit 0 ;;
    -*) echo "build-local-image: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$TAG" ] || { echo "build-local-image: only one TAG, got '$TAG' and '$1'" >&2; exit 2; }; TAG="$1" ;;
  esac
  shift
done
case "$MODE" in docker|podman|all|auto) ;; *) echo "build-local-image: ENGINE must be docker, podman, all or auto (got '$MODE')" >&2; exit 2 ;; esac

have() { command -v "$1" >/dev/null 2>&1; }
die() { echo "build-local-image: $*" >&2; exit 1; }
usage() { echo "build-local-image: $*" >&2; exit 2; }

case "$PROFILE" in
  base) PKG_FILES=("$HERE/packages.txt"); TAG="${TAG:-mcp-code-mode/sandbox:local}" ;;
  data) PKG_FILES=("$HERE/packages.txt" "$HERE/packages-data.txt"); TAG="${TAG:-mcp-code-mode/sandbox:data}"
        STAND_INS=(python3-pythran python3-sympy unicode-data) ;;
  *) usage "--profile must be base or data (got '$PROFILE')" ;;
esac
for f in "${PKG_FILES[@]}"; do [ -f "$f" ] || die "missing $f"; done
PACKAGES="$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "${PKG_FILES[@]}" | grep -v '^$' | paste -sd, -)"
[ -n "$PACKAGES" ] || die "${PKG_FILES[*]} list no package"

# Extra packages: Debian policy names (lowercase letters, digits, + - .; two characters at least),
# sorted and deduplicated so that their order does not change the inputs.
EXTRAS=""
for name in $(printf '%s' "$EXTRA_RAW" | tr ',' ' '); do
  [[ "$name" =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || usage "--extra-packages: '$name' is not a Debian package name (lowercase letters, digits, + - . and at least 2 characters)"
  EXTRAS+="$name"$'\n'
done
EXTRAS="$(printf '%s' "$EXTRAS" | LC_ALL=C sort -u | paste -sd, -)"
# A package the user names for real is installed for real.
for i in "${!STAND_INS[@]}"; do [[ ",$EXTRAS," != *",${STAND_INS[$i]},"* ]] || unset 'STAND_INS[i]'; done
STAND_IN_FILES=()
for name in "${STAND_INS[@]}"; do STAND_IN_FILES+=("$HERE/stand-ins/$name/DEBIAN/control"); done
if [ -n "$PIP_LINKS" ] && [ -z "$PIP_REQ" ]; then usage "--pip-find-links needs --pip-requirements"; fi
if [ -n "$PIP_REQ" ]; then
  [ -f "$PIP_REQ" ] && [ -r "$PIP_REQ" ] || die "pip requirements file $PIP_REQ is not a readable file"
  PIP_REQ="$(cd "$(dirname "$PIP_REQ")" && pwd)/$(basename "$PIP_REQ")"
fi
if [ -n "$PIP_LINKS" ]; then
  [ -d "$PIP_LINKS" ] || die "pip wheelhouse $PIP_LINKS is not a directory"
  PIP_LINKS="$(cd "$PIP_LINKS" && pwd)"
fi

# What the image is made of. With neither extra packages nor pip, this is the sha256 of the script and
# the package files alone (as before profiles), so an image built earlier is still up to date.
inputs_text() {
  cat "$SELF" "${PKG_FILES[@]}" "${STAND_IN_FILES[@]}"
  [ -z "$EXTRAS" ] || printf 'extra-packages: %s\n' "$EXTRAS"
  if [ -n "$PIP_REQ" ]; then
    printf 'pip-requirements:\n'; cat "$PIP_REQ" "$PIP_HOOK"
    if [ -n "$PIP_LINKS" ]; then
      printf 'pip-find-links:\n'
      (cd "$PIP_LINKS" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
    fi
  fi
}
INPUTS="$(inputs_text | sha256sum | cut -d' ' -f1)"
if [ "$PRINT_INPUTS" = 1 ]; then echo "$INPUTS"; exit 0; fi

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
# One cached tarball per tag (profiles and derived images do not evict each other), for its current inputs.
SLUG="$(printf '%s' "$TAG" | tr -c 'a-zA-Z0-9.-' '_')"
ROOTFS="$CACHE/sandbox-rootfs-$SLUG-${INPUTS:0:16}.tar"
PIP_LIST="$ROOTFS.pip"

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
  ALL_PACKAGES="$PACKAGES${EXTRAS:+,$EXTRAS}"
  echo "building the $PROFILE root fs from Debian packages: $SUITE essential + $ALL_PACKAGES${PIP_REQ:+, then pip -r $PIP_REQ}..."
  start=$SECONDS
  tmp="$CACHE/.building-$$.tar"
  log="$CACHE/mmdebstrap-$SLUG.log"
  trap 'rm -f "$tmp" "$tmp.pip"' EXIT
  mirror=()
  hooks=()
  # merged /usr through mmdebstrap's own hook: avoids the usrmerge package, which drags in perl (~50 MB)
  [ -x /usr/share/mmdebstrap/hooks/merged-usr/setup00.sh ] && hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  # Debian's matplotlibrc names TkAgg; the sandbox has no display. The image's env says Agg too (below);
  # the rc file covers a root fs used without that env (bwrap).
  [ "$PROFILE" = data ] && hooks+=(--customize-hook='sed -i "s/^#* *backend *:.*/backend: Agg/" "$1/etc/matplotlibrc"')
  # The Debian packages' own test suites (pandas, scipy, numpy...: about 150 MB) never run in a sandbox.
  hooks+=(--customize-hook='[ ! -d "$1/usr/lib/python3/dist-packages" ] || find "$1/usr/lib/python3/dist-packages" -mindepth 2 -type d -name tests -prune -exec rm -rf {} +')
  if [ -n "$PIP_REQ" ]; then
    hooks+=(--customize-hook="$PIP_HOOK")
    export MCM_PIP_REQUIREMENTS="$PIP_REQ" MCM_PIP_FIND_LINKS="$PIP_LINKS" MCM_PIP_LIST="$tmp.pip"
  fi
  # Stand-ins are installed with dpkg before apt resolves the --include list (apt cannot reach a local
  # .deb from inside the chroot), so apt finds the dependency already met.
  for name in "${STAND_INS[@]}"; do
    mkdir -p "$CACHE/stand-ins"
    dpkg-deb --root-owner-group --build "$HERE/stand-ins/$name" "$CACHE/stand-ins/$name.deb" >/dev/null || die "cannot build the stand-in package $name (dpkg-deb)"
    hooks+=(--essential-hook="copy-in $CACHE/stand-ins/$name.deb /tmp" --essential-hook="chroot \"\$1\" dpkg -i /tmp/$name.deb && rm \"\$1/tmp/$name.deb\"")
    echo "  stand-in: $name (empty; see docker/stand-ins/$name/DEBIAN/control)"
  done
  [ -n "${MCP_CODE_MODE_DEBIAN_MIRROR:-}" ] && mirror=("$MCP_CODE_MODE_DEBIAN_MIRROR")
  # A line per phase on stdout (mmdebstrap's own "I:" lines and the pip hook's), the whole log in $log.
  set +e
  mmdebstrap --variant=essential --include="$ALL_PACKAGES" "${hooks[@]}" \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      "$SUITE" "$tmp" "${mirror[@]}" </dev/null 2>&1 \
    | tee "$log" | grep --line-buffered -E '^(I: (running apt-get update|downloading|extracting|installing|running --customize-hook|creating tarball)|pip: )' \
    | sed -u -e 's/^I: /  /' -e 's/^pip: /  pip: /'
  status="${PIPESTATUS[0]}"
  set -e
  if [ "$status" != 0 ]; then
    tail -n 25 "$log" >&2
    # Name the package that failed: apt's "Unable to locate package X" / "has no installation candidate",
    # or pip's "No matching distribution found for X".
    missing="$({ grep -oE "Unable to locate package [^ ]+" "$log" | sed 's/^Unable to locate package //' || true
                 grep -oE "Package '[^']+' has no installation candidate" "$log" | cut -d"'" -f2 || true; } | sort -u | paste -sd' ' -)"
    [ -z "$missing" ] || die "Debian $SUITE has no package named: $missing (from ${PKG_FILES[*]}${EXTRAS:+ or --extra-packages $EXTRAS}); full log: $log"
    pipfail="$({ grep -oE 'No matching distribution found for [^ ]+' "$log" || true; } | sed 's/^No matching distribution found for //' | sort -u | paste -sd' ' -)"
    [ -z "$pipfail" ] || die "pip found no distribution for: $pipfail (requirements $PIP_REQ${PIP_LINKS:+, wheelhouse $PIP_LINKS}); full log: $log"
    die "mmdebstrap failed (full log: $log). It needs a reachable Debian mirror (set MCP_CODE_MODE_DEBIAN_MIRROR) and root or subuids."
  fi
  rm -f "$CACHE/sandbox-rootfs-$SLUG-"*.tar "$CACHE/sandbox-rootfs-$SLUG-"*.tar.pip   # keep only the current inputs' tarball
  [ -z "$PIP_REQ" ] || mv "$tmp.pip" "$PIP_LIST"
  mv "$tmp" "$ROOTFS"
  trap - EXIT
  echo "root fs built in $((SECONDS - start)) s ($(du -h "$ROOTFS" | cut -f1))"
fi

# ---------------------------------------------------------------- root fs tree (bwrap)
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

# ---------------------------------------------------------------- import + check
PIP_PACKAGES=""
[ -z "$PIP_REQ" ] || PIP_PACKAGES="$(grep -v '^$' "$PIP_LIST" | paste -sd, -)"
CHANGES=(
  --change "LABEL $LABEL_KEY=$INPUTS"
  --change "LABEL mcp-code-mode.profile=$PROFILE"
  --change "LABEL mcp-code-mode.extra-packages=\"$EXTRAS\""
  --change "LABEL mcp-code-mode.pip-packages=\"$PIP_PACKAGES\""
  --change "LABEL org.opencontainers.image.title=mcp-code-mode-sandbox"
  --change "LABEL org.opencontainers.image.description=\"Debian $SUITE essential + $PACKAGES${EXTRAS:+,$EXTRAS}, built by docker/build-local-image.sh\""
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --change "ENV LANG=C.UTF-8"
  --change 'CMD ["python3"]'
)
# matplotlib writes its config and font cache under MPLCONFIGDIR; the root is read-only and HOME may
# not be writable, /tmp always is (a tmpfs in every sandbox).
[ "$PROFILE" = data ] && CHANGES+=(--change "ENV MPLBACKEND=Agg" --change "ENV MPLCONFIGDIR=/tmp/matplotlib")
# Explicit, modest ulimits: podman's defaults (and anything above the engine process's own hard limits)
# fail without CAP_SYS_RESOURCE with runc "error setting rlimits for ready process ... operation not permitted".
ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
CHECK_PY='import asyncio, json, zlib, base64, ssl, os; print("ok", os.getuid())'
CHECK_WHAT=""
if [ "$PROFILE" = data ]; then CHECK_PY="$(cat "$HERE/check-data.py")"; CHECK_WHAT=", every module of the profile imports"; fi
# pip was in the build root only: the image that runs must not have it.
[ -z "$PIP_REQ" ] || CHECK_PY="import importlib.util; assert importlib.util.find_spec('pip') is None, 'pip left in the image'"$'\n'"$CHECK_PY"

for e in "${TODO[@]}"; do
  echo "importing root fs into $e as $TAG..."
  old_id="$("$e" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
  quiet=(); [ "$e" = podman ] && quiet=(--quiet)
  "$e" import "${quiet[@]}" "${CHANGES[@]}" "$ROOTFS" "$TAG" >/dev/null || die "$e import failed"
  echo "checking: python3 as uid 65534, no network, read-only root$CHECK_WHAT..."
  out="$("$e" run --rm --user 65534:65534 --network none --read-only --cap-drop ALL \
           --security-opt no-new-privileges "${ULIMITS[@]}" --tmpfs /tmp:rw,noexec,nosuid,nodev,size=64m \
           "$TAG" python3 -c "$CHECK_PY" 2>&1)" \
    || { "$e" rmi "$TAG" >/dev/null 2>&1 || true; die "the new image does not run python3 as uid 65534 in $e (image removed): $out"; }
  [ "$out" = "ok 65534" ] || { "$e" rmi "$TAG" >/dev/null 2>&1 || true; die "unexpected check output from $e (image removed): $out"; }
  if [ -n "$old_id" ] && [ "$old_id" != "$("$e" image inspect --format '{{.Id}}' "$TAG")" ]; then
    "$e" rmi "$old_id" >/dev/null 2>&1 || true   # the previous build, now untagged (kept if a container uses it)
  fi
  echo "sandbox image ready: $TAG in $e ($LABEL_KEY=${INPUTS:0:12}...)"
done
