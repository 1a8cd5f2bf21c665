"""The wheel that `pip install git+...` builds (Colab's install cell) holds the whole package.

An editable install reads ganlab from the tree, so a missing subpackage or data
file would pass every other test and still break every chapter in Colab.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_wheel_contains_every_module_and_the_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("ganlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.relative_to(ROOT).as_posix() for pkg in ("ganlab", "ganlab_book")
                for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts}
    assert expected - names == set(), f"missing from the wheel: {sorted(expected - names)}"
    assert "ganlab/data_files/digits.csv.gz" in names
    assert "ganlab/viz/plotly_view.js" in names  # the live figure's page side
