"""The live widgets in a real Jupyter front-end, driven by Playwright in headless Chromium.

What a reader does: open a notebook, run its cells, press Play on the
playground and watch the figure move; press Pause and see it stop; step D,
step G, slow step; the same for Compare. Unit tests cannot see any of this:
a figure can train in the kernel and never reach the page.

Runs against the front-end of the environment running pytest: JupyterLab 4
in the main one (ipywidgets 8, plotly 7; ``.venv``), the classic Notebook 6.5
in the Colab-like one (Python 3.13, ipywidgets 7.7, plotly 5.24;
``tests/colab_env.sh``). Needs Debian's Chromium (``./course test`` installs
it). Screenshots land in ``_build/screenshots/lab-*.png``; the measured rates
are printed (``-s``) and added to ``_build/screenshots/lab-rates.txt``.
"""

from __future__ import annotations

import importlib.util
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
TOKEN = "ganlab-test"

pytest.importorskip("anywidget")
if importlib.util.find_spec("jupyterlab") is not None:
    import jupyterlab as _frontend

    FRONTEND = "lab"
else:
    _frontend = pytest.importorskip("notebook")
    if int(_frontend.__version__.split(".")[0]) >= 7:
        pytest.skip("Notebook 7 is JupyterLab-based: install jupyterlab to test it", allow_module_level=True)
    FRONTEND = "classic"
STACK = f"{FRONTEND}{_frontend.__version__.split('.')[0]}"

# What differs between the two front-ends: the server, the URL, the selectors.
_UI = {
    "lab": dict(
        server=["-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.token={TOKEN}", "--ServerApp.open_browser=False", "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        root_dir="--ServerApp.root_dir", url="/lab/tree/{name}", cell=".jp-Notebook .jp-Cell",
        prompt=".jp-InputArea-prompt",
        errors=".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], .jp-RenderedText.jp-mod-error",
        menu=(".lm-MenuBar-itemLabel, .p-MenuBar-itemLabel", "Run",
              ".lm-Menu-itemLabel, .p-Menu-itemLabel", "Run All Cells"),
        idle="() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator, [data-status]');"
             " return s !== null && s.getAttribute('data-status') === 'idle'; }"),
    "classic": dict(
        server=["-m", "notebook", "--NotebookApp.ip=127.0.0.1", f"--NotebookApp.token={TOKEN}",
                "--NotebookApp.open_browser=False"],
        root_dir="--NotebookApp.notebook_dir", url="/notebooks/{name}", cell="#notebook .cell",
        prompt=".input_prompt", errors=".output_stderr, .output_error",
        menu=("#menus a.dropdown-toggle", "Cell", "#menus li a", "Run All"),
        idle="() => { const i = document.querySelector('#kernel_indicator_icon');"
             " return i !== null && i.classList.contains('kernel_idle_icon'); }"),
}[FRONTEND]

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
    """A Jupyter server (JupyterLab or the classic Notebook) on 127.0.0.1, serving a folder with the test notebooks."""
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
        [sys.executable, *_UI["server"], "--no-browser", "--allow-root", f"--port={port}",
         f"{_UI['root_dir']}={work}"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"the {FRONTEND} server exited: {(work / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"the {FRONTEND} server did not start in 120 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Lab:
    """One notebook open in the front-end, with what the page logged."""

    def __init__(self, browser, base: str, name: str):
        self.name, self.base = name.split(".")[0], base
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{m.text} [{m.location.get('url', '')}]")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.outside.append(r.url)
                     if not r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")) else None)
        self.page.goto(f"{base}{_UI['url'].format(name=name)}?token={TOKEN}", wait_until="domcontentloaded",
                       timeout=120_000)
        self.page.wait_for_selector(_UI["cell"], state="attached", timeout=120_000)
        # JupyterLab sometimes asks which kernel to start (a race with loading the
        # kernel specs): accept its proposal, python3, as a reader would.
        accept = self.page.locator(".jp-Dialog button.jp-mod-accept")
        try:
            accept.wait_for(state="visible", timeout=3_000)
            accept.click()
        except Exception:
            pass
        self.page.wait_for_function(_UI["idle"], timeout=120_000)  # the kernel has started

    def run_all(self) -> None:
        """Run > Run All Cells (Cell > Run All in the classic Notebook), from the menu, as a reader would."""
        bar, top, item, entry = _UI["menu"]
        self.page.locator(bar).filter(has_text=re.compile(rf"^\s*{top}\s*$")).first.click()
        self.page.locator(item).filter(has_text=re.compile(rf"^\s*{entry}\s*$")).first.click()

    def wait_done(self, timeout: float = 300.0) -> None:
        """Until no cell is queued or running ("[*]")."""
        self.page.wait_for_function(
            f"() => [...document.querySelectorAll('{_UI['prompt']}')].every(p => !p.textContent.includes('*'))",
            timeout=timeout * 1000, polling=500)

    def error_outputs(self) -> list[str]:
        return self.page.eval_on_selector_all(_UI["errors"], "els => els.map(e => e.textContent.slice(0, 500))")

    def titles(self) -> list[str]:
        """The titles of the plotly figures on the page, in order."""
        return self.page.eval_on_selector_all(".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)")

    def button(self, text: str):
        return self.page.locator(".jupyter-widgets button, button.jupyter-button").filter(
            has_text=re.compile(rf"^\W*{re.escape(text)}$")).first

    def close(self) -> None:
        self.shot(f"{self.name}-last")  # what the page showed at the end, passed or failed
        (SHOTS / f"lab-{STACK}-{self.name}-console.txt").write_text("\n".join(self.errors + self.outside))
        self.page.close()
        # Shut the notebook's kernel down: the next test's kernel gets the cores.
        sessions = json.load(urllib.request.urlopen(f"{self.base}/api/sessions?token={TOKEN}", timeout=10))
        for session in sessions:
            request = urllib.request.Request(f"{self.base}/api/sessions/{session['id']}?token={TOKEN}",
                                             method="DELETE")
            urllib.request.urlopen(request, timeout=30)

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
    # The first entry is the figure as it was: at least three advances after it. (The
    # goal, a new frame at least every 0.5 s, is measured and reported, not asserted:
    # a busy machine must not fail it; a frozen figure fails the gap check.)
    assert len(changes) >= 4, f"{name}: Play redrew the figure {len(changes) - 1} times in 10 s: {changes}"
    assert changes[-1][1] > start_step
    gaps = [b[0] - a[0] for a, b in zip(changes[1:], changes[2:])]
    assert max(gaps) <= 2.5, f"{name}: the figure stood still for {max(gaps):.2f} s while playing: {changes}"
    lab.button("Pause").click()
    after = _watch(lab, index, 2.0)
    settled = after[-1][0] if after else 0.0
    # The title may change once more (to the iteration Pause stopped at), within 0.5 s.
    assert settled <= 0.5, f"{name}: the figure kept changing {settled:.2f} s after Pause: {after}"
    stopped = _step_of(lab.titles()[index])
    rates = {"redraws_per_s": (len(changes) - 1) / max(changes[-1][0] - changes[0][0], 1e-9),
             "median_gap_s": sorted(gaps)[len(gaps) // 2], "max_gap_s": max(gaps),
             "iterations_per_s": (changes[-1][1] - changes[0][1]) / max(changes[-1][0] - changes[0][0], 1e-9),
             "pause_settled_s": settled}
    for text in steps:
        before = _step_of(lab.titles()[index])
        lab.button(text).click()
        moved = _watch(lab, index, 2.0)
        assert moved and moved[-1][1] == before + 1, f"{name}: {text!r} did not redraw one iteration on: {moved}"
    assert _step_of(lab.titles()[index]) == stopped + len(steps)
    return rates


def _report(name: str, rates: dict) -> None:
    line = (f"{STACK} {name}: {rates['iterations_per_s']:.0f} iterations/s, "
            f"{rates['redraws_per_s']:.1f} redraws/s while playing (median gap {rates['median_gap_s']:.2f} s, "
            f"longest {rates['max_gap_s']:.2f} s); Pause settled in {rates['pause_settled_s']:.2f} s")
    print(line)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with open(SHOTS / "lab-rates.txt", "a") as f:
        f.write(line + "\n")


def _run_widget_notebook(nb: Lab, n_figures: int) -> None:
    """Run all cells; the widget's figures must draw, with no error output."""
    nb.run_all()
    _wait_for_figures(nb, n_figures)
    nb.wait_done()
    assert nb.error_outputs() == []


def _page_was_clean(nb: Lab) -> None:
    errors = [e for e in nb.errors if not _frontend_artifact(e)]
    assert errors == [], errors
    assert nb.outside == [], nb.outside


def test_playground_plays_pauses_and_steps_in_a_real_frontend(lab, browser):
    nb = Lab(browser, lab, "play.ipynb")
    try:
        _run_widget_notebook(nb, 1)
        nb.shot("playground")
        rates = _play_pause_and_steps(nb, 0, "playground", ["step D", "step G", "step both", "slow step"])
        # The slow step's narration appears, sub-step by sub-step.
        nb.page.wait_for_function("() => document.body.innerText.includes('= result')", timeout=15_000)
        nb.shot("playground-slow-step")
        _report("Playground", rates)
        _page_was_clean(nb)
    finally:
        nb.close()


def test_compare_plays_pauses_and_steps_in_a_real_frontend(lab, browser):
    nb = Lab(browser, lab, "compare.ipynb")
    try:
        _run_widget_notebook(nb, 2)
        rates = _play_pause_and_steps(nb, 0, "compare", ["step"])
        titles = nb.titles()
        assert _step_of(titles[0]) == _step_of(titles[1])  # lockstep, on the page too
        _report("Compare", rates)
        _page_was_clean(nb)
    finally:
        nb.close()


def _frontend_artifact(error: str) -> bool:
    """A console error of the classic Notebook's own markdown rendering, not of the
    chapter's code or widgets: it takes a MyST directive fence (```{dropdown} ...)
    for a code block in an unknown language and asks its server for a CodeMirror
    mode of that name (a 404), and its MathJax asks for fonts it does not ship.
    JupyterLab (and Colab) render the same markdown without an error."""
    return FRONTEND == "classic" and any(
        part in error for part in ("/codemirror/mode/", "/static/components/MathJax/", "font at 'about:blank'",
                                   "net::ERR_FAILED [about:blank]"))


def test_a_chapter_runs_in_a_real_frontend(lab, browser):
    """Chapter 4 (the training loop, with a live playground) top to bottom."""
    nb = Lab(browser, lab, "04_training_loop.ipynb")
    try:
        nb.run_all()
        nb.wait_done(timeout=400)
        assert nb.error_outputs() == []
        assert nb.page.locator(".js-plotly-plot").count() >= 1
        nb.shot("chapter-04")
        _page_was_clean(nb)
    finally:
        nb.close()
