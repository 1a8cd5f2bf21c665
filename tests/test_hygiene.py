"""Notebook hygiene: what is committed is what a reader and Colab need, nothing more."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks under book/"


def test_every_notebook_is_in_the_toc():
    listed = set(_toc_files())
    for nb in NOTEBOOKS:
        assert f"book/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"


def test_repository_url_is_a_github_url():
    url = _config()["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    assert _config()["repository"]["branch"] == "main"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_outputs_or_widget_state(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {i} has committed outputs"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
    assert "widgets" not in nb["metadata"], "notebook metadata holds widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_kernel_is_python3(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_ganlab_only_in_colab(path):
    nb = json.loads(path.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    src = "".join(first["source"])
    url = _config()["repository"]["url"]
    assert '"google.colab" in sys.modules' in src, "the install must be conditional on Colab"
    assert 'find_spec("ganlab") is None' in src, "the install must only run when ganlab is missing"
    assert f"git+{url}" in src, f"the install must use the configured repository {url}"


def test_colab_install_cell_fails_with_a_clear_message_when_the_url_cannot_be_reached(tmp_path):
    """The install cell as Colab runs it (google.colab imported, ganlab missing), with
    the repository URL swapped for one that cannot be reached: it must stop with a
    message naming the URL, not a bare CalledProcessError."""
    nb = json.loads(NOTEBOOKS[0].read_text())
    src = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
    url = _config()["repository"]["url"]
    unreachable = (tmp_path / "no-such-repository").as_uri()
    assert src.count(url) >= 2, "the cell must name the repository in its error message too"
    script = tmp_path / "cell.py"
    script.write_text(
        "import sys, types, importlib.util\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
        "_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'ganlab' else _find(name, *a)\n"
        + src.replace(url, unreachable))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "RuntimeError: Could not install ganlab from " + unreachable in result.stderr, result.stderr[-2000:]
    assert "pip said:" in result.stderr
    # Outside Colab the same cell does nothing at all.
    plain = subprocess.run([sys.executable, "-c", src.replace(url, unreachable)], capture_output=True,
                           text=True, timeout=60)
    assert plain.returncode == 0 and plain.stdout == "" and plain.stderr == ""
