#!/bin/sh
# pip-install-hook.sh CHROOT: the mmdebstrap customize hook of a derived image (build-local-image.sh
# --pip-requirements). Installs Debian's python3-pip into the build root, installs the requirements
# with it into /usr/local, lists what pip installed into $MCM_PIP_LIST, then purges pip and whatever
# only pip needed: the image that runs holds the packages, never pip.
# Environment: MCM_PIP_REQUIREMENTS (file), MCM_PIP_FIND_LINKS (wheel directory; empty: the index that
# PIP_INDEX_URL / PIP_EXTRA_INDEX_URL name, else PyPI), MCM_PIP_LIST (output file, outside the root).
set -eu
root="$1"
work=/tmp/mcm-pip
echo "pip: installing python3-pip into the build root"
APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get install -y --no-install-recommends python3-pip
mkdir -p "$root$work"
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
echo "pip: removing python3-pip from the image"
APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get purge -y --autoremove python3-pip
rm -rf "${root:?}$work"
