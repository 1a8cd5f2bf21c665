"""Live controls for a kernel (Jupyter, Colab): change settings, retrain, redraw.

These need a running kernel; on the static site the recorded animation of the same
run takes their place. They draw with plain ``display(fig)``, not plotly's
FigureWidget, so they work wherever plotly figures show (Colab included) with
ipywidgets 7 or 8.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
from IPython.display import display


class LiveControls:
    """Sliders, a *Train* button, a status line and an output area.

    ``run(**values)`` is called with the current value of every control (by name)
    when the button is pressed, and must return something to display (a figure).
    An error in ``run`` is shown in the status line; the controls stay usable and
    the last good figure stays on screen.
    """

    def __init__(self, run: Callable[..., object], controls: dict[str, widgets.ValueWidget], *,
                 button_text: str = "Train"):
        if not callable(run):
            raise TypeError(f"run must be callable, got {run!r}")
        if not controls:
            raise ValueError("controls must hold at least one widget, got none")
        for name, control in controls.items():
            if not hasattr(control, "value"):
                raise TypeError(f"controls[{name!r}] must be an ipywidgets control with a value, got {control!r}")
        self.run = run
        self.controls = dict(controls)
        self.button = widgets.Button(description=button_text, button_style="primary", icon="play")
        self.status = widgets.HTML(value="Choose settings, then press <b>Train</b>.")
        self.output = widgets.Output()
        self.result = None
        self.button.on_click(lambda _: self.train())
        self.widget = widgets.VBox([
            widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")),
            widgets.HBox([self.button, self.status]),
            self.output,
        ])

    @property
    def values(self) -> dict:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def train(self):
        """Run with the current values and show the result (what the button does)."""
        self.button.disabled = True
        self.status.value = "training ..."
        try:
            result = self.run(**self.values)
        except Exception as error:  # shown to the reader; the last good figure stays
            self.status.value = f"<b>Stopped:</b> {html.escape(str(error))}"
            return None
        finally:
            self.button.disabled = False
        self.result = result
        self.output.clear_output(wait=True)
        with self.output:
            display(result)
        self.status.value = "done: change a setting and train again."
        return result

    def _ipython_display_(self):
        display(self.widget)


def slider(description: str, value: float, low: float, high: float, *, log: bool = False,
           step: float | None = None, integer: bool = False) -> widgets.ValueWidget:
    """A labelled slider; ``log=True`` makes a base-10 logarithmic one (learning rates)."""
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="320px")
    if integer:
        return widgets.IntSlider(value=int(value), min=int(low), max=int(high), step=int(step or 1),
                                 description=description, style=style, layout=layout)
    if log:
        import math

        return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high),
                                      step=step or 0.1, description=description, style=style, layout=layout)
    return widgets.FloatSlider(value=value, min=low, max=high, step=step or (high - low) / 100,
                               description=description, style=style, layout=layout)
