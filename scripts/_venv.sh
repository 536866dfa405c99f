# Shared by scripts/demo and scripts/test: find Python 3.11+, make .venv, install requirements.
# Usage: . scripts/_venv.sh REQUIREMENTS_FILE
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON_BIN=""
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON_BIN=$candidate; break
  fi
done
[ -n "$PYTHON_BIN" ] || { echo "csplatform needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $($PYTHON_BIN --version)…"
  "$PYTHON_BIN" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$1")"
if [ ! -f "$stamp" ] || [ "$1" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  echo "Installing $1 into .venv…"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
  touch "$stamp"
fi
