#!/usr/bin/env bash
# Run the widget and figure tests in a Colab-like environment.
#
# Google Colab ships older versions of the display stack than requirements.txt
# (ipywidgets 7.7.1, plotly 5.24.1, IPython 7.34, ipykernel 6.17; REFERENCE.md
# section 2). This script makes .venv-colab from requirements-colab.txt (the same
# toolchain with Colab's versions of those), installs ganlab into it without
# touching its pins, and runs the playground, live-control and figure tests there,
# then nbval on the notebooks named on the command line (those that use the
# playground).
#
#   bash tests/colab_env.sh                      # tests only
#   bash tests/colab_env.sh book/NN_chapter.ipynb # tests, then nbval on the notebook(s)
#
# The environment is rebuilt when requirements-colab.txt or pyproject.toml change.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${COLAB_VENV:-.venv-colab}
PY=${PYTHON:-python3}

want=$(cat requirements-colab.txt pyproject.toml | sha256sum | cut -c1-16)
have=""
[ -f "$VENV/.colab-stamp" ] && have=$(cat "$VENV/.colab-stamp")
if [ "$want" != "$have" ] || [ ! -x "$VENV/bin/python" ]; then
  echo "colab_env: setting up $VENV from requirements-colab.txt (a minute or two) ..."
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -m pip install -q -r requirements-colab.txt 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -m pip install -q --no-deps -e . 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -c "import torch, ipywidgets, plotly, ganlab" \
    || { echo "colab_env: the environment in $VENV is broken; delete it and run again" >&2; exit 1; }
  echo "$want" > "$VENV/.colab-stamp"
fi

"$VENV/bin/python" - <<'EOF'
import IPython, ipykernel, ipywidgets, plotly, torch
print(f"colab_env: ipywidgets {ipywidgets.__version__}, plotly {plotly.__version__}, "
      f"IPython {IPython.__version__}, ipykernel {ipykernel.__version__}, torch {torch.__version__}")
EOF

"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_playground.py tests/test_live.py tests/test_viz_*.py

if [ "$#" -gt 0 ]; then
  # One notebook per worker (--dist loadfile): a notebook's cells share one kernel.
  "$VENV/bin/python" -m pytest -q -p no:cacheprovider --nbval-lax "$@"
fi
