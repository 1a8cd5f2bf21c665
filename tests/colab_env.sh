#!/usr/bin/env bash
# Run the tests in a Colab-like environment: Colab's Python and its package versions.
#
# Google Colab runs Python 3.13 with older versions of the display stack than
# requirements.txt (ipywidgets 7.7.1, plotly 5.24.1, IPython 7.34, ipykernel 6.17)
# and its own torch (2.11) and numpy (2.1); REFERENCE.md section 2. This script makes
# .venv-colab from requirements-colab.txt with Python 3.13, installs ganlab into it
# without touching its pins, then runs there:
#   1. the unit tests (all but the built-site tests, which need the book's toolchain),
#      including the front-end tests in the classic Notebook 6.5, which serves ipywidgets 7;
#   2. nbval on the notebooks named on the command line, under the CPU kernel profile
#      $NBVAL_PROFILE (default: avx2), so the chapters' checks meet yet another
#      trajectory of the same seeds (another torch, another kernel set).
#
#   bash tests/colab_env.sh                        # the unit tests only
#   bash tests/colab_env.sh book/*.ipynb           # then nbval on the chapters
#
# Cost: the first run downloads torch's CUDA build for Python 3.13 (about 3 GB; the
# CPU-only wheels on this machine are for Python 3.11) and takes a few minutes; later
# runs reuse .venv-colab until requirements-colab.txt or pyproject.toml change.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${COLAB_VENV:-.venv-colab}
# Python 3.13's frozen modules make debugpy (in ipykernel 6.17) warn at every kernel start.
export PYDEVD_DISABLE_FILE_VALIDATION=1

# Colab's Python: $COLAB_PYTHON, else python3.13 on the PATH, else pyenv's 3.13.
find_python() {
  local candidate
  for candidate in "${COLAB_PYTHON:-}" "$(command -v python3.13 || true)" \
                   "$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1)"; do
    # (a pyenv shim is on the PATH even where it cannot run: try each one)
    [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null \
      && { echo "$candidate"; return; }
  done
  echo "colab_env: needs Python 3.13 (Google Colab's): install it (e.g. pyenv install 3.13) or set COLAB_PYTHON" >&2
  exit 1
}

want=$(cat requirements-colab.txt pyproject.toml | sha256sum | cut -c1-16)
have=""
[ -f "$VENV/.colab-stamp" ] && have=$(cat "$VENV/.colab-stamp")
if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/python" ]; then
  PY=$(find_python)
  echo "colab_env: setting up $VENV with $("$PY" --version) from requirements-colab.txt (first time: a few minutes, ~3 GB) ..."
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -m pip install -q -r requirements-colab.txt 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -c "import torch, ipywidgets, plotly, anywidget, notebook, ganlab" \
    || { echo "colab_env: the environment in $VENV is broken; delete it and run again" >&2; exit 1; }
  echo "$want" > "$VENV/.colab-stamp"
fi

"$VENV/bin/python" - <<'EOF'
import sys, IPython, ipykernel, ipywidgets, notebook, numpy, plotly, torch
print(f"colab_env: Python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__}, "
      f"ipywidgets {ipywidgets.__version__}, plotly {plotly.__version__}, IPython {IPython.__version__}, "
      f"ipykernel {ipykernel.__version__}, notebook {notebook.__version__}")
EOF

"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests --ignore tests/test_site.py

if [ "$#" -gt 0 ]; then
  # One notebook per worker (--dist loadfile): a notebook's cells share one kernel.
  ATEN_CPU_CAPABILITY=${NBVAL_PROFILE:-avx2} \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider --nbval-lax -n 2 --dist loadfile "$@"
fi
