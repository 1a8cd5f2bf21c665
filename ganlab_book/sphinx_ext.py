"""Sphinx extension for the course site: everything served by the site itself.

* plotly.js (bundled in the plotly package) is copied to ``_static`` and loaded only
  on pages that show a figure;
* MathJax 3 (bundled in the ``sphinx-mathjax-offline`` package, a pinned build
  requirement) is copied to ``_static/mathjax`` and used instead of a CDN;
* the ipywidgets state that myst-nb embeds in pages is dropped (no kernel, no use);
* sphinx-thebe's inline script, which Sphinx 7.4 adds twice (a JavaScript error),
  is kept once;
* the root ``index.html`` that Jupyter Book writes (a bare redirect, so the browser
  asks for ``/favicon.ico``: a 404 console error) gets the site's favicon.
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import mimetypes
import re
import shutil
from pathlib import Path

from ganlab_book.plotly_renderer import MARKER_CLASS

PLOTLY_JS = "plotly.min.js"
MATHJAX_ENTRY = "mathjax/tex-chtml.js"
# tex-chtml.js loads these at run time, relative to its own address.
MATHJAX_PARTS = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "ui/menu.js", "a11y", "input/tex/extensions"]


def _plotly_js_source() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS


def _mathjax_source() -> Path:
    dist = importlib.metadata.distribution("sphinx-mathjax-offline")
    return Path(dist.locate_file("sphinx-mathjax-offline/static/mathjax"))


def _copy_assets(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_plotly_js_source(), static / PLOTLY_JS)
    source = _mathjax_source()
    for part in MATHJAX_PARTS:
        src, dst = source / part, static / "mathjax" / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    _index_with_favicon(Path(app.outdir), app.config.html_favicon)


def _index_with_favicon(outdir: Path, favicon: str | None) -> None:
    """Rewrite the root redirect page as a small page with the site's favicon,
    inlined (a file the redirect would leave half-loaded: an aborted request)."""
    index = outdir / "index.html"
    icon_file = outdir / "_static" / Path(favicon or "").name
    if not favicon or not index.exists() or not icon_file.is_file():
        return
    text = index.read_text(encoding="utf-8")
    match = re.search(r'url=([^"\']+)', text)
    if "rel=\"icon\"" in text or match is None:
        return
    target = html.escape(match.group(1))
    kind = mimetypes.guess_type(icon_file.name)[0] or "image/x-icon"
    icon = f"data:{kind};base64,{base64.b64encode(icon_file.read_bytes()).decode()}"
    index.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Refresh" content="0; url={target}">'
        f'<link rel="icon" href="{icon}"><title>Redirecting</title></head>'
        f'<body><a href="{target}">Continue to the course</a></body></html>\n', encoding="utf-8")


def _use_local_mathjax(app, config) -> None:
    # A relative mathjax_path is read relative to the site's _static folder.
    config.mathjax_path = MATHJAX_ENTRY


def _on_page(app, pagename, templatename, context, doctree) -> None:
    if MARKER_CLASS in context.get("body", ""):
        app.add_js_file(PLOTLY_JS, priority=200)
    scripts = context.get("script_files")
    if scripts is None:
        return
    seen, kept = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        if attributes.get("type") == "application/vnd.jupyter.widget-state+json":
            continue
        body = attributes.get("body")
        if not getattr(script, "filename", None) and body:
            # An inline script: keep the first copy only (filename may be None or "").
            if body in seen:
                continue
            seen.add(body)
        kept.append(script)
    scripts[:] = kept


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    # Run after the other extensions have added their scripts (default priority 500).
    app.connect("html-page-context", _on_page, priority=900)
    app.connect("build-finished", _copy_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
