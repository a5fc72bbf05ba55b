#!/usr/bin/env bash
# Usage: tools/find-python.sh 3.13 3.12 ...
# Prints the first interpreter of one of these versions that really runs
# (pyenv's shims exist for versions that are not enabled, so each candidate
# is tried, not just found).
set -u
for v in "$@"; do
  for p in "$(command -v "python$v" 2>/dev/null)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"*/bin/"python$v" \
           /usr/local/bin/"python$v" /usr/bin/"python$v"; do
    [ -n "$p" ] && [ -x "$p" ] || continue
    if "$p" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$v' else 1)" 2>/dev/null; then
      echo "$p"
      exit 0
    fi
  done
done
echo "find-python: no working Python $* found (pyenv install one, or set PY_OLD / PY_NEW)" >&2
exit 1
