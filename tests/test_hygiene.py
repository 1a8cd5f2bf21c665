"""Notebook hygiene: what is committed is what a reader and Colab need, nothing more."""

from __future__ import annotations

import json
import pathlib
import re

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
