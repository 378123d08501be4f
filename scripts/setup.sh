#!/usr/bin/env bash
# setup.sh: get a checkout ready to run and test. Idempotent; fast when everything is already done.
#   1. npm install (only when node_modules is missing or a package.json / package-lock.json changed)
#   2. npm run build (tsc -b, incremental)
#   3. a container engine that answers (scripts/ensure-engine.sh: Docker, else Podman; installs/starts
#      dockerd when root on Debian/Ubuntu)
#   4. the sandbox image (`mcp-code-mode image ensure`, see ensure_sandbox_image below)
# Environment: MCP_BRIDGE_IMAGE (use this image), MCP_BRIDGE_IMAGE_PROFILE=data (build and use the data
#   image), MCP_BRIDGE_EXTRA_PACKAGES / MCP_BRIDGE_PIP_REQUIREMENTS (a derived image), MCP_BRIDGE_RUNTIME / DOCKER_HOST (engine),
#   SETUP_SKIP_NPM=1, SETUP_SKIP_BUILD=1, SETUP_SKIP_ENGINE=1, SETUP_SKIP_IMAGE=1 (skip a step),
#   SETUP_ENGINES=all (bring up Docker and Podman both, and the image in each: the tests run on both),
#   SETUP_FOR_TESTS=1 (what the tests need besides: the data image in every engine (the bwrap tests unpack
#   it from one), systemd-analyze, bubblewrap for the bwrap runtime, and Node.js 22 in .state/node22, on
#   which the tests run a part of the suite too).
# Functions can be run one by one: bash scripts/setup.sh <step>  (npm_install | build | engine | image | bwrap).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"


log() { echo "setup: $*"; }
fail() {
  echo "setup: FAILED: $1" >&2
  [ $# -gt 1 ] && echo "setup: next: $2" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
# apt_get_install PKG...: quietly, and once more after an update when the package lists are stale.
apt_get_install() {
  DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

# ---------------------------------------------------------------- 1. npm install
npm_install() {
  local stamp=node_modules/.package-lock.json reason=""
  if [ ! -d node_modules ] || [ ! -f "$stamp" ]; then
    reason="node_modules is missing"
  else
    local f
    for f in package.json package-lock.json packages/*/package.json daemon/package.json shim/package.json; do
      if [ -f "$f" ] && [ "$f" -nt "$stamp" ]; then reason="$f changed"; break; fi
    done
  fi
  if [ -z "$reason" ]; then
    log "dependencies up to date (node_modules)"
    return 0
  fi
  have npm || fail "npm is not installed" "install Node.js >= 20 (with npm), e.g. from https://nodejs.org or your package manager"
  log "npm install ($reason)..."
  # Note: newer npm versions may hold back dependency install scripts until they are approved;
  # nothing here relies on any install script. Claude Code's postinstall only copies its native
  # binary over a stub (the tests run it through the package's cli-wrapper.cjs, which finds it), and
  # the Gemini CLI's optional native modules (node-pty, keytar) are not needed for `gemini -p`.
  npm install --no-audit --no-fund \
    || fail "npm install failed" "check network access to the npm registry (npm config get registry), then re-run: npm run setup"
  touch "$stamp" 2>/dev/null || true   # npm leaves it untouched when nothing changed
}

# ---------------------------------------------------------------- 2. build
build() {
  log "npm run build (tsc -b)..."
  npm run build --silent || fail "the TypeScript build failed" "fix the errors above, then re-run: npm run setup"
}

# ---------------------------------------------------------------- 3. engine
# The daemon's own choice, made ready: MCP_BRIDGE_RUNTIME when set; else an engine that answers; else,
# as root on Debian/Ubuntu, bubblewrap (installed in seconds, no engine at all) rather than docker.io.
# The tests (SETUP_ENGINES=all) always bring up Docker and Podman, and bubblewrap beside them.
USE_BWRAP=0
engine() {
  if [ "${MCP_BRIDGE_RUNTIME:-}" = bwrap ]; then
    ensure_bubblewrap; USE_BWRAP=1; return 0
  fi
  if [ "${SETUP_ENGINES:-}" != all ] && [ -z "${MCP_BRIDGE_RUNTIME:-}${DOCKER_HOST:-}" ] \
    && ! bash "$ROOT/scripts/ensure-engine.sh" --check-only >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ] && have apt-get; then
    log "no container engine answers: using bubblewrap (the bwrap runtime, no engine needed)"
    ensure_bubblewrap
    if have bwrap; then USE_BWRAP=1; return 0; fi
  fi
  bash "$ROOT/scripts/ensure-engine.sh" ${SETUP_ENGINES:+"$SETUP_ENGINES"} \
    || fail "no container engine answers" "follow the hints above, then re-run: npm run setup (or set MCP_BRIDGE_RUNTIME / DOCKER_HOST)"
}

# ---------------------------------------------------------------- 4. sandbox image
# The daemon's own logic (`mcp-code-mode image ensure`): MCP_BRIDGE_IMAGE if set (pulled when missing);
# else, with MCP_BRIDGE_IMAGE_PROFILE=data or packages of your own (MCP_BRIDGE_EXTRA_PACKAGES,
# MCP_BRIDGE_PIP_REQUIREMENTS), that image built offline (a no-op when its inputs are unchanged);
# else python:3.12-slim if present; else the offline mcp-code-mode/sandbox:local if built before (rebuilt
# when its inputs changed); else a pull of python:3.12-slim; else the offline build from Debian packages.
# With SETUP_ENGINES=all, the image is made present in every engine that answers (the tests use both).
# With SETUP_FOR_TESTS=1, the data image too (data_image_for_tests).
ensure_sandbox_image() {
  local cli="$ROOT/packages/cli/bin/mcp-code-mode.js"
  if [ "$USE_BWRAP" = 1 ]; then
    # No engine to hold an image: the daemon unpacks the image from an engine that has it, else builds the
    # root filesystem from Debian packages (about 30 s, once; progress in its log).
    log "sandbox root fs: made by the daemon at its first start (bwrap runtime)"
    return 0
  fi
  if [ "${SETUP_ENGINES:-}" = all ]; then
    local sock
    for sock in /var/run/docker.sock /run/podman/podman.sock; do
      [ -S "$sock" ] || continue
      log "sandbox image for the engine at $sock..."
      MCP_BRIDGE_RUNTIME="$sock" node "$cli" image ensure \
        || fail "no sandbox image for the engine at $sock" "see the messages above"
      data_image_for_tests "$sock"
    done
    return 0
  fi
  log "sandbox image..."
  node "$cli" image ensure \
    || fail "no sandbox image" "see the messages above; or set MCP_BRIDGE_IMAGE to an image with python3 >= 3.9 that your engine has"
  data_image_for_tests ""
}

# The tests of plots, exports and the data profile run a daemon with MCP_BRIDGE_IMAGE_PROFILE=data on
# every runtime: the data image in each engine (bwrap unpacks it from one). The builder makes the root fs
# tarball once (a few minutes, kept in .state/cache by its inputs) and imports it into each engine; an
# image whose inputs are unchanged is left as it is, at once. Without the user's packages: the tests
# use the profile's own tag.
data_image_for_tests() { # data_image_for_tests SOCKET ("" for the engine the CLI finds)
  [ "${SETUP_FOR_TESTS:-0}" = 1 ] || return 0
  log "data image for the tests${1:+ in the engine at $1} (mcp-code-mode image build --profile data)..."
  env -u MCP_BRIDGE_IMAGE -u MCP_BRIDGE_EXTRA_PACKAGES -u MCP_BRIDGE_PIP_REQUIREMENTS -u MCP_BRIDGE_PIP_FIND_LINKS \
    ${1:+MCP_BRIDGE_RUNTIME="$1"} node "$ROOT/packages/cli/bin/mcp-code-mode.js" image build --profile data >/dev/null \
    || fail "no data image${1:+ for the engine at $1}" "see the messages above; the plot, export and data-profile tests need it"
}

# ---------------------------------------------------------------- 5. tools the tests use
# systemd-analyze checks the generated login unit (`service install`); Debian's systemd package has it.
test_tools() {
  if command -v systemd-analyze >/dev/null 2>&1; then
    log "systemd-analyze present"
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing systemd (for systemd-analyze, used by the tests)..."
    apt_get_install systemd \
      || fail "could not install systemd (for systemd-analyze)" "install it yourself, or the unit check is skipped"
  else
    log "systemd-analyze missing (not root or no apt-get): the test of the generated unit will only parse it"
  fi
  ensure_bubblewrap
  node22
}

# ---------------------------------------------------------------- 5b. bubblewrap (the bwrap runtime)
# The engine-less runtime needs bwrap, and util-linux (setpriv, prlimit, unshare), which Debian always has.
ensure_bubblewrap() {
  if have bwrap; then
    log "bubblewrap present ($(bwrap --version))"
  elif [ "$(id -u)" = 0 ] && have apt-get; then
    log "installing bubblewrap (for the bwrap runtime)..."
    apt_get_install bubblewrap \
      || fail "could not install bubblewrap" "install it yourself (apt-get install -y bubblewrap), or the bwrap tests are skipped"
  else
    log "bubblewrap missing (not root or no apt-get): the bwrap tests are skipped"
  fi
}

# ---------------------------------------------------------------- 6. Node.js 22 (tests only)
# The tests also run a part of the suite on Node.js 22 (the npm package node@22 ships its binary),
# installed into .state/node22 so that it never shadows the machine's own node in npm scripts.
NODE22="$ROOT/.state/node22/node_modules/node/bin/node"
node22() {
  if [ -x "$NODE22" ] && "$NODE22" --version 2>/dev/null | grep -q '^v22\.'; then
    log "Node.js 22 for the tests present ($("$NODE22" --version))"
    return 0
  fi
  log "installing Node.js 22 for the tests (npm package node@22, into .state/node22)..."
  mkdir -p "$ROOT/.state/node22"
  [ -f "$ROOT/.state/node22/package.json" ] || echo '{"name":"node22-for-tests","private":true}' > "$ROOT/.state/node22/package.json"
  npm install --prefix "$ROOT/.state/node22" --no-audit --no-fund --no-save node@22 >/dev/null \
    || fail "could not install node@22 from the npm registry" "check registry access, or run the tests without SETUP_FOR_TESTS=1"
  "$NODE22" --version | grep -q '^v22\.' || fail "node@22 installed but $NODE22 is not Node.js 22" "remove .state/node22 and retry"
}

# ---------------------------------------------------------------- main
main() {
  local t0=$SECONDS
  [ "${SETUP_SKIP_NPM:-0}" = 1 ] || npm_install
  [ "${SETUP_SKIP_BUILD:-0}" = 1 ] || build
  [ "${SETUP_SKIP_ENGINE:-0}" = 1 ] || engine
  [ "${SETUP_SKIP_IMAGE:-0}" = 1 ] || ensure_sandbox_image
  if [ "${SETUP_FOR_TESTS:-0}" = 1 ]; then test_tools; fi
  log "ready ($((SECONDS - t0)) s)"
}

case "${1:-all}" in
  all) main ;;
  npm_install|npm) npm_install ;;
  build) build ;;
  engine) engine ;;
  image) ensure_sandbox_image ;;
  node22) node22 ;;
  bwrap) ensure_bubblewrap ;;
  test_tools) test_tools ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) fail "unknown step '$1'" "use one of: npm_install build engine image (or no argument for all)" ;;
esac
