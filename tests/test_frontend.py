"""The live widgets in a real JupyterLab, driven by Playwright in headless Chromium.

What a reader does: open a notebook, run its cells, press Play on the
playground and watch the figure move; press Pause and see it stop; step D,
step G, slow step; the same for Compare. Unit tests cannot see any of this:
a figure can train in the kernel and never reach the page.

Runs against the JupyterLab of the environment running pytest: the main one
(JupyterLab 4, ipywidgets 8, plotly 7; ``.venv``) and the Colab-like one
(JupyterLab 3, ipywidgets 7.7, plotly 5.24; ``tests/colab_env.sh``).
Needs Debian's Chromium (``./course test`` installs it). Screenshots land in
``_build/screenshots/lab-*.png``; the measured rates are printed (``-s``) and
written to ``_build/screenshots/lab-rates.txt``.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TOKEN = "ganlab-test"

jupyterlab = pytest.importorskip("jupyterlab")
pytest.importorskip("anywidget")
STACK = f"jl{jupyterlab.__version__.split('.')[0]}"

# Small nets keep the kernel's share of the two cores modest: the page must get
# its share too, as on a reader's laptop.
SETUP = ("import torch; torch.set_num_threads(1)\n"
         "from ganlab.viz import Playground, Compare\n")
PLAYGROUND = "pg = Playground('ring', g_width=64, d_width=64)\npg"
COMPARE = "cmp = Compare(['textbook', 'r1'], data='ring', lr_g=1e-3, lr_d=1e-3)\ncmp"


def _notebook(*sources: str) -> dict:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": s}
             for s in sources]
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1, serving a folder with the test notebooks."""
    work = tmp_path_factory.mktemp("lab")
    (work / "play.ipynb").write_text(json.dumps(_notebook(SETUP + PLAYGROUND)))
    (work / "compare.ipynb").write_text(json.dumps(_notebook(SETUP + COMPARE)))
    chapter = ROOT / "book" / "04_training_loop.ipynb"
    shutil.copy(chapter, work / chapter.name)
    port = _free_port()
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1", PYTHONPATH=str(ROOT))
    env.setdefault("OMP_NUM_THREADS", "1")
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.token={TOKEN}",
         f"--ServerApp.root_dir={work}", "--ServerApp.open_browser=False",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(work / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start in 120 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Chromium is not installed: install Debian's 'chromium' package (./course test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Lab:
    """One notebook open in JupyterLab, with what the page logged."""

    def __init__(self, browser, base: str, name: str):
        self.name = name.split(".")[0]
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.outside.append(r.url)
                     if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
        self.page.goto(f"{base}/lab/tree/{name}?token={TOKEN}", wait_until="domcontentloaded", timeout=120_000)
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        self.wait_idle()

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Until the kernel is idle (JupyterLab 3 and 4 both set this attribute)."""
        self.page.wait_for_function(
            "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator, "
            ".jp-KernelStatus, [data-status]'); return !s || !s.getAttribute('data-status') || "
            "s.getAttribute('data-status') === 'idle'; }", timeout=timeout * 1000)

    def run_all(self) -> None:
        """Run > Run All Cells, from the menu, as a reader would."""
        page = self.page
        page.click(".jp-Notebook")
        page.locator(".lm-MenuBar-itemLabel, .p-MenuBar-itemLabel").filter(has_text=re.compile(r"^Run$")).first.click()
        page.locator(".lm-Menu-itemLabel, .p-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).first.click()

    def wait_done(self, timeout: float = 300.0) -> None:
        """Until no cell is queued or running ("[*]")."""
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-InputArea-prompt')].every(p => !p.textContent.includes('*'))",
            timeout=timeout * 1000, polling=500)

    def error_outputs(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], .jp-RenderedText.jp-mod-error",
            "els => els.map(e => e.textContent.slice(0, 500))")

    def titles(self) -> list[str]:
        """The titles of the plotly figures on the page, in order."""
        return self.page.eval_on_selector_all(".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)")

    def button(self, text: str):
        return self.page.locator(".jupyter-widgets button, button.jupyter-button").filter(
            has_text=re.compile(rf"^\W*{re.escape(text)}$")).first

    def close(self) -> None:
        self.shot(f"{self.name}-last")  # what the page showed at the end, passed or failed
        self.page.close()

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"lab-{STACK}-{name}.png"), full_page=False)


def _step_of(title: str) -> int | None:
    match = re.search(r"iteration ([\d,]+)", title or "")
    return int(match.group(1).replace(",", "")) if match else None


def _watch(lab: Lab, index: int, seconds: float, every: float = 0.05) -> list[tuple[float, int]]:
    """(time, iteration) each time figure ``index``'s title changes, for ``seconds``."""
    changes, last, start = [], None, time.perf_counter()
    while time.perf_counter() - start < seconds:
        titles = lab.titles()
        step = _step_of(titles[index]) if len(titles) > index else None
        if step is not None and step != last:
            changes.append((time.perf_counter() - start, step))
            last = step
        time.sleep(every)
    return changes


def _wait_for_figures(lab: Lab, n: int, timeout: float = 120.0) -> None:
    lab.page.wait_for_function(f"() => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
                               f".filter(e => /iteration/.test(e.textContent)).length >= {n}",
                               timeout=timeout * 1000, polling=200)


def _play_pause_and_steps(lab: Lab, index: int, name: str, steps: list[str]) -> dict:
    """Press Play, watch figure ``index``, press Pause, then each step button."""
    start_step = _step_of(lab.titles()[index])
    lab.button("Play").click()
    changes = _watch(lab, index, 10.0)
    lab.shot(f"{name}-playing")
    assert len(changes) >= 4, f"{name}: Play redrew the figure {len(changes)} times in 10 s: {changes}"
    assert changes[-1][1] > start_step
    gaps = [b[0] - a[0] for a, b in zip(changes[1:], changes[2:])]
    assert max(gaps) <= 1.0, f"{name}: the figure stood still for {max(gaps):.2f} s while playing: {changes}"
    lab.button("Pause").click()
    after = _watch(lab, index, 2.0)
    settled = after[-1][0] if after else 0.0
    # The title may change once more (to the iteration Pause stopped at), within 0.5 s.
    assert settled <= 0.5, f"{name}: the figure kept changing {settled:.2f} s after Pause: {after}"
    stopped = _step_of(lab.titles()[index])
    rates = {"redraws_per_s": (len(changes) - 1) / max(changes[-1][0] - changes[0][0], 1e-9),
             "iterations_per_s": (changes[-1][1] - changes[0][1]) / max(changes[-1][0] - changes[0][0], 1e-9),
             "pause_settled_s": settled}
    for text in steps:
        before = _step_of(lab.titles()[index])
        lab.button(text).click()
        moved = _watch(lab, index, 1.5)
        assert moved and moved[-1][1] == before + 1, f"{name}: {text!r} did not redraw one iteration on: {moved}"
        assert moved[-1][0] <= 1.0, f"{name}: {text!r} took {moved[-1][0]:.2f} s to show"
    assert _step_of(lab.titles()[index]) == stopped + len(steps)
    return rates


def _report(name: str, rates: dict) -> None:
    line = (f"{STACK} {name}: {rates['iterations_per_s']:.0f} iterations/s, "
            f"{rates['redraws_per_s']:.1f} redraws/s while playing; Pause settled in {rates['pause_settled_s']:.2f} s")
    print(line)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with open(SHOTS / "lab-rates.txt", "a") as f:
        f.write(line + "\n")


def test_playground_plays_pauses_and_steps_in_jupyterlab(lab, browser):
    nb = Lab(browser, lab, "play.ipynb")
    try:
        nb.run_all()
        _wait_for_figures(nb, 1)
        nb.wait_done()
        assert nb.error_outputs() == []
        nb.shot("playground")
        rates = _play_pause_and_steps(nb, 0, "playground", ["step D", "step G", "step both", "slow step"])
        # The slow step's narration appears, sub-step by sub-step.
        nb.page.wait_for_function("() => document.body.innerText.includes('= result')", timeout=15_000)
        nb.shot("playground-slow-step")
        _report("Playground", rates)
        assert nb.errors == [], nb.errors
        assert nb.outside == [], nb.outside
    finally:
        nb.close()


def test_compare_plays_pauses_and_steps_in_jupyterlab(lab, browser):
    nb = Lab(browser, lab, "compare.ipynb")
    try:
        nb.run_all()
        _wait_for_figures(nb, 2)
        nb.wait_done()
        assert nb.error_outputs() == []
        rates = _play_pause_and_steps(nb, 0, "compare", ["step"])
        titles = nb.titles()
        assert _step_of(titles[0]) == _step_of(titles[1])  # lockstep, on the page too
        _report("Compare", rates)
        assert nb.errors == [], nb.errors
        assert nb.outside == [], nb.outside
    finally:
        nb.close()


def test_a_chapter_runs_in_jupyterlab(lab, browser):
    """Chapter 4 (the training loop, with a live playground) top to bottom."""
    nb = Lab(browser, lab, "04_training_loop.ipynb")
    try:
        nb.run_all()
        nb.wait_done(timeout=400)
        assert nb.error_outputs() == []
        assert nb.page.locator(".js-plotly-plot").count() >= 1
        nb.shot("chapter-04")
        assert nb.errors == [], nb.errors
        assert nb.outside == [], nb.outside
    finally:
        nb.close()
