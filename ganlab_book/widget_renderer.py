"""Static stand-ins for ipywidgets outputs on the course site.

A widget needs a kernel; the static site has none, and the widget JavaScript would
come from CDNs. So instead of an empty box, the site shows what a reader needs:

* a tqdm progress bar (an HBox of HTML, a progress bar, HTML) becomes its final
  text line, read from the widget state saved when the notebook was executed;
* any other widget (the live controls) becomes a short note saying how to use it.
"""

from __future__ import annotations

import html as html_lib

from docutils import nodes

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
LIVE_NOTE = (
    "Live controls appear here when this notebook runs in Jupyter or Google Colab "
    "(rocket icon at the top of the page). The recorded animation on this page shows "
    "the same run without a kernel."
)


def _state(renderer) -> dict:
    doc_renderer = renderer.renderer
    client = getattr(doc_renderer, "nb_client", None)
    metadata = getattr(client, "nb_metadata", {}) or {}
    return metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})


def _model(state: dict, ref) -> dict:
    key = ref[len("IPY_MODEL_"):] if isinstance(ref, str) and ref.startswith("IPY_MODEL_") else ref
    return state.get(key, {}).get("state", {})


def progress_text(state: dict, model_id: str) -> str | None:
    """The text line of a tqdm bar (``100%|██████████| 3/3 [00:00<00:00]``), or None."""
    box = _model(state, model_id)
    children = [_model(state, c) for c in box.get("children", [])]
    kinds = [c.get("_model_name") for c in children]
    if len(children) != 3 or kinds[1] not in ("FloatProgressModel", "IntProgressModel"):
        return None
    left = html_lib.unescape(children[0].get("value", "")).replace("\u2007", " ").strip()
    right = html_lib.unescape(children[2].get("value", "")).replace("\u2007", " ").strip()
    bar = children[1]
    span = (bar.get("max", 1) - bar.get("min", 0)) or 1
    filled = round(20 * (bar.get("value", 0) - bar.get("min", 0)) / span)
    return f"{left}|{'█' * filled}{' ' * (20 - filled)}| {right}".strip()


class WidgetMimeRenderer:
    """Render widget views as text (progress bars) or as a note (live controls)."""

    mime_priority_overrides = ()

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != WIDGET_VIEW_MIME:
            return None
        content = data.content if isinstance(data.content, dict) else {}
        text = progress_text(_state(renderer), content.get("model_id", ""))
        if text is not None:
            return [nodes.literal_block(text=text, classes=["output", "text_plain", "ganlab-progress"])]
        note = nodes.container(classes=["ganlab-live-note", "admonition", "note"])
        note += nodes.paragraph(text=LIVE_NOTE)
        return [note]
