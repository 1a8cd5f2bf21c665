"""A myst-nb mime renderer for plotly figures that works offline.

plotly >= 6 displays a figure in Jupyter as ``application/vnd.plotly.v1+json`` only.
myst-nb does not know that type and drops the figure with a warning. This plugin
(registered under the ``myst_nb.mime_renderers`` entry point in ``pyproject.toml``)
turns the JSON into the same HTML ``plotly.io.to_html`` writes, without embedding
plotly.js: the page loads ``_static/plotly.min.js`` instead (see ``sphinx_ext``).
The notebooks themselves set no renderer, so JupyterLab, VS Code and Colab keep theirs.
"""

from __future__ import annotations

import json

from docutils import nodes

PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: Class on the wrapper ``<div>``; the Sphinx extension looks for it to add plotly.js.
MARKER_CLASS = "ganlab-plotly"


def figure_html(spec: dict) -> str:
    """HTML for one figure: a div and the ``Plotly.newPlot`` call, no plotly.js."""
    import plotly.io as pio

    fig = pio.from_json(json.dumps(spec), skip_invalid=True)
    return pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        config={"responsive": True, "displaylogo": False},
        auto_play=False,
    )


class PlotlyMimeRenderer:
    """Render ``application/vnd.plotly.v1+json`` outputs as offline HTML."""

    # In HTML builds, prefer the figure's JSON over its text/html or text/plain forms.
    mime_priority_overrides = [("html", PLOTLY_MIME, 1), ("dirhtml", PLOTLY_MIME, 1)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if inline or data.mime_type != PLOTLY_MIME:
            return None
        spec = data.content
        if isinstance(spec, (str, bytes)):
            spec = json.loads(spec)
        html = f'<div class="{MARKER_CLASS}">{figure_html(spec)}</div>'
        return [nodes.raw(text=html, format="html", classes=["output", "text_html"])]
