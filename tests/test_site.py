"""The built site, opened in a real headless Chromium, as a reader would.

Needs the site in ``_build/html`` (``./course build``, which ``./course test`` runs
first) and Debian's Chromium (``./course test`` installs it). Each page in the table
of contents must load with zero console errors, zero page errors and zero failed or
off-machine requests; every plotly figure must draw; an animation must move when
Play is pressed. Screenshots land in ``_build/screenshots/`` for a human to look at.
"""

from __future__ import annotations

import functools
import http.server
import pathlib
import threading
from urllib.parse import urlparse

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for p in toc.get("parts", []) for c in p["chapters"]]
    return files


def _notebook_pages() -> list[str]:
    return [p for p in _pages() if (ROOT / f"{p}.ipynb").exists()]


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        pytest.fail("no built site in _build/html: run ./course build first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _open(browser, server, page_path):
    """Open a page; return (page, problems) where problems lists everything that went wrong."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            problems.append(f"off-machine request: {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(f"{server}/{page_path}.html", wait_until="networkidle")
    page.wait_for_timeout(300)
    return context, page, problems


@pytest.mark.parametrize("page_path", _pages())
def test_page_loads_cleanly_and_figures_render(browser, server, page_path):
    context, page, problems = _open(browser, server, page_path)
    try:
        n_divs = page.locator("div.plotly-graph-div").count()
        n_drawn = page.locator("div.plotly-graph-div svg.main-svg").count()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{page_path.replace('/', '__')}.png"), full_page=True)
        assert not problems, "\n".join(problems)
        drawn = page.evaluate(
            "() => [...document.querySelectorAll('div.plotly-graph-div')]"
            ".map(d => d.querySelector('svg.main-svg') !== null)"
        )
        assert all(drawn), f"{drawn.count(False)} of {n_divs} plotly figures did not draw"
        if (ROOT / f"{page_path}.ipynb").exists():
            assert n_divs > 0 and n_drawn > 0, "a chapter page without any figure"
    finally:
        context.close()


def test_root_index_redirects_cleanly(browser, server):
    """The site's address itself (index.html, a redirect) logs nothing either."""
    context, page, problems = _open(browser, server, "index")
    try:
        assert page.url.endswith("/book/intro.html"), page.url
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("page_path", _notebook_pages())
def test_chapter_has_colab_and_download_buttons(browser, server, page_path):
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    org_repo = repo["url"].removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{org_repo}/blob/main/{page_path}.ipynb"
    context, page, problems = _open(browser, server, page_path)
    try:
        hrefs = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
        assert colab in hrefs, f"no Colab launch button pointing to {colab}"
        downloads = [h for h in hrefs if h.endswith(f"_sources/{page_path}.ipynb")]
        assert downloads, "no download-notebook link"
        response = page.request.get(downloads[0])
        assert response.ok and '"cells"' in response.text(), "the notebook download is broken"
    finally:
        context.close()


def test_animation_plays(browser, server):
    """Pressing Play on a recorded animation changes what is drawn."""
    animated = []
    for page_path in _notebook_pages():
        html = (SITE / f"{page_path}.html").read_text()
        if '"frames"' in html or "Plotly.addFrames" in html:
            animated.append(page_path)
    assert animated, "no page with a recorded animation"
    context, page, problems = _open(browser, server, animated[0])
    try:
        gd = "[...document.querySelectorAll('div.plotly-graph-div')].find(d => d._transitionData && d._transitionData._frames.length > 1)"
        # Plotly adds the frames after the first draw has finished: wait for them.
        page.wait_for_function(f"() => {gd} !== undefined", timeout=30_000)
        page.evaluate(f"() => {gd}.scrollIntoView()")
        before = page.evaluate(f"() => JSON.stringify({gd}.data.map(t => t.y))")
        page.evaluate(f"() => {gd}.querySelector('.updatemenu-button').dispatchEvent(new MouseEvent('click', {{bubbles: true}}))")
        page.wait_for_timeout(2000)
        after = page.evaluate(f"() => JSON.stringify({gd}.data.map(t => t.y))")
        slider = page.evaluate(f"() => {gd}._fullLayout.sliders[0].active")
        assert after != before, "pressing Play did not change the figure"
        assert slider > 0, "the slider did not move"
        assert not problems, "\n".join(problems)
    finally:
        context.close()
