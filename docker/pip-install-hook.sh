#!/bin/sh
# pip-install-hook.sh CHROOT: the mmdebstrap customize hook of a derived image (build-local-image.sh
# --pip-requirements). Puts Debian's python3-pip into the build root, installs the requirements with it
# into /usr/local, lists what pip installed into $MCM_PIP_LIST, then purges pip and the packages that
# came with it: the image that runs holds the packages, never pip.
# Environment: MCM_PIP_REQUIREMENTS (file), MCM_PIP_FIND_LINKS (wheel directory; empty: the index that
# PIP_INDEX_URL / PIP_EXTRA_INDEX_URL name, else PyPI), MCM_PIP_LIST (output file, outside the root).
set -eu
root="$1"
work=/tmp/mcm-pip
# apt with mmdebstrap's config resolves against the root's own package state, but would hand the
# packages to the host's dpkg: it only downloads them here, and dpkg installs them inside the root.
[ -n "${MMDEBSTRAP_APT_CONFIG:-}" ] || { echo "pip-install-hook: MMDEBSTRAP_APT_CONFIG is not set (not run by mmdebstrap?)" >&2; exit 1; }
echo "pip: installing python3-pip into the build root"
mkdir -p "$root$work/debs/partial"
APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get --yes --download-only --no-install-recommends \
  -o Dir::Cache::archives="$root$work/debs/" install python3-pip
added=""
for deb in "$root$work"/debs/*.deb; do added="$added $(dpkg-deb -f "$deb" Package)"; done
[ -n "$added" ] || { echo "pip-install-hook: apt downloaded no package for python3-pip" >&2; exit 1; }
chroot "$root" sh -c "dpkg --install $work/debs/*.deb"
cp "$MCM_PIP_REQUIREMENTS" "$root$work/requirements.txt"
set -- --no-cache-dir --disable-pip-version-check --root-user-action=ignore --break-system-packages \
  -r "$work/requirements.txt"
if [ -n "${MCM_PIP_FIND_LINKS:-}" ]; then
  cp -R "$MCM_PIP_FIND_LINKS" "$root$work/wheels"
  set -- "$@" --no-index --find-links "$work/wheels"
fi
echo "pip: python3 -m pip install $*"
chroot "$root" python3 -m pip install "$@"
purelib="$(chroot "$root" python3 -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
chroot "$root" python3 -m pip list --format=freeze --disable-pip-version-check --path "$purelib" > "$MCM_PIP_LIST"
echo "pip: removing python3-pip from the image (with what came with it:$added)"
# shellcheck disable=SC2086 # one word per package
chroot "$root" dpkg --purge $added
rm -rf "${root:?}$work"
