#!/usr/bin/env bash
# Creates .venv with Python 3.10 and the pinned dependencies; does nothing when the
# environment already matches requirements.txt and constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.installed"
want=$(cat requirements.txt constraints.txt scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi

is_python310() {
  [[ -n "$1" ]] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1
}

find_python310() {
  local candidates=("${PYTHON310:-}" python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10)
  fi
  candidates+=(/usr/local/bin/python3.10 /usr/bin/python3.10)
  for candidate in "${candidates[@]}"; do
    if is_python310 "$candidate"; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! PYTHON=$(find_python310); then
  echo "ERROR: Python 3.10 is required (Rasa 3.6 supports Python 3.8-3.10) and none was found." >&2
  echo "Install it (e.g. 'pyenv install 3.10.13') or set PYTHON310=/path/to/python3.10." >&2
  exit 1
fi
echo "Using $PYTHON ($("$PYTHON" --version 2>&1))"

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade "pip==24.0"
"$VENV/bin/pip" install --quiet -c constraints.txt -r requirements.txt
# indic-nlp-library declares Sphinx documentation packages as dependencies, which sends
# pip backtracking for 10+ minutes, and morfessor and pandas, which only modules we never
# import use (indicnlp.morph, its loaders); our code needs none of them.
"$VENV/bin/pip" install --quiet --no-deps -c constraints.txt indic-nlp-library
echo "$want" > "$STAMP"
echo "Environment ready in $VENV"
