#!/usr/bin/env bash
# Usage: tools/venv.sh LOCKFILE PYTHON
# Prints the path of a virtualenv holding exactly LOCKFILE's packages,
# creating it on first use. Virtualenvs live in a cache outside the repository
# keyed by the lock file and the Python version, so CI and later runs reuse them.
set -euo pipefail
lock=$1
python=$2
command -v "$python" >/dev/null 2>&1 || { echo "venv: $python not found (install it, or set PY_OLD / PY_NEW)" >&2; exit 1; }
cache=${SKIPPER_VENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skipper-platform/venv}
# The key covers the lock, the files it includes with -r, and the Python.
key=$({
  cat "$lock"
  sed -n 's/^-r[[:space:]]*//p' "$lock" | while read -r f; do cat "$(dirname "$lock")/$f"; done
  "$python" -c 'import sys; print(sys.version)'
} | sha256sum | cut -c1-16)
name=$(echo "${lock%.txt}" | tr '/' '-')
dest="$cache/$name-$key"
if [ ! -f "$dest/.complete" ]; then
  # One creator at a time: a second caller waits, then finds it complete.
  mkdir -p "$cache"
  exec 8>"$cache/.lock-$name-$key"
  flock 8
fi
if [ ! -f "$dest/.complete" ]; then
  echo "venv: creating $dest from $lock (one time, about a minute)" >&2
  # Scripts in a venv hard-code its folder, so it is made in place; the
  # .complete stamp, written last, is what marks it usable.
  rm -rf "$dest"
  mkdir -p "$cache"
  "$python" -m venv "$dest"
  "$dest/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lock" >&2
  touch "$dest/.complete"
fi
echo "$dest"
