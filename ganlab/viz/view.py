"""One live figure on the page, redrawn as training goes on, whatever the front-end.

The playground and compare mode redraw a plotly figure many times a second. How
a new figure reaches the page, and how the kernel learns that the page has drawn
it, depends on where the notebook runs; :class:`FigureView` hides the difference.
``figure="auto"`` picks one of three ways (pass one to override):

* ``"widget"``: :class:`PlotlyView`, a small `anywidget`_ that draws the figure
  with plotly.js (served by the kernel from the installed plotly package, so no
  network is needed) and *acknowledges every frame once it is painted*. The
  kernel sends the next frame only after that acknowledgement, and trains on
  meanwhile: a slow page gets fewer frames with more iterations between them,
  never a backlog. Clicks reach Python (to draw your own points). Chosen
  wherever ``anywidget`` is installed, except in Google Colab.
* ``"html"``: an ``ipywidgets.Output`` holding the figure as HTML with a small
  script that loads plotly.js (once) before drawing. Chosen in Colab, where
  custom widgets need a custom widget manager.
* ``"output"``: an ``Output`` holding the figure as plotly's own output (the
  notebook's plotly renderer draws it): what works without anywidget.

The Output ways cannot hear back from the page, so they are paced by time: at
most one frame every :attr:`FigureView.min_interval` seconds. Either way the
figure is put into the Output widget by assigning its ``outputs``, not by
``with out: display(fig)``: output captured that way from a task that a button
click started never reaches the page in JupyterLab (the front-end has stopped
listening for outputs of that click by then).

.. _anywidget: https://anywidget.dev
"""

from __future__ import annotations

import functools
import json
import pathlib
import sys
import time
import uuid
from typing import Callable

import plotly.graph_objects as go

import ipywidgets as widgets

from ganlab import _checks

__all__ = ["FIGURE_MODES", "FigureView", "choose_figure_mode", "figure_json", "html_figure"]

#: How the figure reaches the page (see the module docstring).
FIGURE_MODES = ("auto", "widget", "html", "output")


def _anywidget_error() -> str | None:
    """Why a PlotlyView cannot be built here (None: it can)."""
    try:
        import anywidget  # noqa: F401
    except ImportError as error:
        return f"figure='widget' needs the anywidget package ({error}); pip install anywidget"
    return None


def choose_figure_mode(figure: str = "auto") -> str:
    """How the figure reaches the page: "widget", "html" or "output" (see the module docstring).

    "auto": "html" in Google Colab; else "widget" when anywidget is installed;
    else "output".
    """
    _checks.check_choice("figure", figure, FIGURE_MODES)
    if figure in ("html", "output"):
        return figure
    if figure == "auto" and "google.colab" in sys.modules:
        return "html"
    problem = _anywidget_error()
    if problem is None:
        return "widget"
    if figure == "widget":
        raise ValueError(f"{problem}; or use figure='html' or 'output'")
    return "output"


def figure_json(fig: go.Figure) -> str:
    """The figure as plotly JSON, from its own dicts (no deep copy, no validation)."""
    from plotly.io.json import to_json_plotly

    parts = {"data": getattr(fig, "_data", None), "layout": getattr(fig, "_layout", None)}
    if not isinstance(parts["data"], list) or not isinstance(parts["layout"], dict):
        parts = fig.to_dict()
    return to_json_plotly(parts)


def html_figure(fig: go.Figure) -> str:
    """The figure as HTML that draws itself once plotly.js is there: if the page
    has no ``window.Plotly`` yet, the script loads plotly.js (the version this
    plotly.py was made for) from plotly's CDN, once per page, and draws when it
    has loaded. (Plotly's own "Plotly is not defined" failure in Colab's Output
    widgets comes from drawing before its script tag has loaded.)"""
    from plotly.offline import get_plotlyjs_version

    div = "ganlab-" + uuid.uuid4().hex[:12]
    spec = figure_json(fig).replace("</", "<\\/")
    cdn = f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
    width, height = fig.layout.width, fig.layout.height
    size = f"width:{width}px;height:{height}px;" if width and height else "height:440px;"
    script = (
        "(function(){var fig=%s;"
        "function draw(){window.Plotly.newPlot('%s',fig.data,fig.layout,{responsive:false});}"
        "if(window.Plotly){draw();return;}"
        "if(!window.ganlabPlotly){window.ganlabPlotly=new Promise(function(ok,fail){"
        "var s=document.createElement('script');s.src='%s';s.onload=ok;s.onerror=fail;"
        "document.head.appendChild(s);});}"
        "window.ganlabPlotly.then(draw);})();" % (spec, div, cdn)
    )
    return f'<div id="{div}" style="{size}"></div><script type="text/javascript">{script}</script>'


@functools.lru_cache(maxsize=1)
def _plotly_view_class():
    """The PlotlyView widget class (built on first use: anywidget is imported only then)."""
    import anywidget
    import traitlets

    class PlotlyView(anywidget.AnyWidget):
        """A plotly figure drawn by the page, which acknowledges each frame.

        ``figure`` (plotly JSON) and ``frame`` (a counter) are synced to the page;
        the page answers ``{"type": "drawn", "frame": n}`` once frame n is painted,
        asks for plotly.js once (``"need plotly.js"``), and reports clicks.
        """

        _esm = (pathlib.Path(__file__).with_name("plotly_view.js")).read_text(encoding="utf-8")
        figure = traitlets.Unicode("{}").tag(sync=True)
        frame = traitlets.Int(0).tag(sync=True)

    return PlotlyView


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    """plotly.js from the installed plotly package (the version its JSON is for)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


class FigureView:
    """One figure on the page, redrawn with :meth:`show`, whatever the mode.

    ``widget`` is what to put in a layout; ``figure`` is the last figure shown
    (a ``go.Figure``), so code and tests can read what is on screen.
    :attr:`ready` says whether the page has drawn what it was sent, i.e.
    whether a new frame may go now (see the module docstring).
    """

    #: Output modes (no acknowledgement): at most one frame this often.
    min_interval = 0.25
    #: Widget mode: if the page has not acknowledged a frame this long (a hidden
    #: tab, a closed view), send the next one anyway; the page draws only the newest.
    ack_timeout = 2.0

    def __init__(self, mode: str = "auto"):
        self.mode = choose_figure_mode(mode)
        self.figure: go.Figure | None = None
        self.payload = None  # what the Output modes showed last (HTML text or the figure)
        self.sent = 0  # frames sent
        self.drawn = 0  # the newest frame the page acknowledged (widget mode)
        self.page_seen = False  # has a page shown this view? (until then nobody acknowledges)
        self._sent_at = -float("inf")
        self._on_click: Callable | None = None
        if self.mode == "widget":
            self.widget = _plotly_view_class()(layout=widgets.Layout(min_height="300px"))
            self.widget.on_msg(self._on_message)
        else:
            self.widget = widgets.Output(layout=widgets.Layout(min_height="300px"))

    @property
    def in_flight(self) -> int:
        """Frames sent that the page has not acknowledged (widget mode; else 0)."""
        return self.sent - self.drawn if self.mode == "widget" else 0

    @property
    def ready(self) -> bool:
        """May a new frame be sent now without piling frames up on the page?"""
        waited = time.perf_counter() - self._sent_at
        if self.mode == "widget":
            return not self.page_seen or self.in_flight == 0 or waited >= self.ack_timeout
        return waited >= self.min_interval

    def show(self, fig: go.Figure, on_click: Callable | None = None) -> None:
        """Show ``fig``. ``on_click(x, y)`` is called for clicks on a trace named
        "canvas" (widget mode only: elsewhere clicks do not reach Python)."""
        self.figure = fig
        self._on_click = on_click
        self.sent += 1
        self._sent_at = time.perf_counter()
        if self.mode == "widget":
            with self.widget.hold_sync():  # one message: the figure and its frame number
                self.widget.figure = figure_json(fig)
                self.widget.frame = self.sent
            return
        if self.mode == "html":
            self.payload = html_figure(fig)
            data = {"text/html": self.payload}
        else:
            self.payload = fig
            # The notebook's plotly renderer decides the output (empty outside a
            # kernel: then plotly's own mimetype, which JupyterLab draws).
            data = fig._repr_mimebundle_() or {"application/vnd.plotly.v1+json": json.loads(figure_json(fig))}
        self.widget.outputs = ({"output_type": "display_data", "data": data, "metadata": {}},)

    def _on_message(self, _widget, content, _buffers) -> None:
        """A message from the page: a view opened, a frame drawn, a request for plotly.js, a click."""
        kind = content.get("type") if isinstance(content, dict) else None
        self.page_seen = True
        if kind == "drawn":
            self.drawn = max(self.drawn, min(int(content.get("frame", 0)), self.sent))
        elif kind == "need plotly.js":
            self.widget.send({"type": "plotly.js", "source": _plotly_js()})
        elif kind == "click" and self._on_click is not None and content.get("trace") == "canvas":
            self._on_click(float(content["x"]), float(content["y"]))
