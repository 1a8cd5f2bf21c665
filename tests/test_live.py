"""The live controls, driven from code as a reader's clicks would drive them."""

import ipywidgets as widgets
import plotly.graph_objects as go
import pytest

from ganlab.viz.live import LiveControls, slider


def _figure(a, n):
    if a < 0:
        raise ValueError(f"a must be >= 0, got {a}")
    return go.Figure(go.Scatter(x=list(range(n)), y=[a] * n))


def test_button_runs_with_current_values():
    controls = LiveControls(_figure, {"a": slider("a", 1.0, 0.0, 5.0), "n": slider("n", 3, 1, 10, integer=True)})
    controls.controls["a"].value = 2.0
    controls.button.click()
    assert isinstance(controls.result, go.Figure)
    assert list(controls.result.data[0].y) == [2.0, 2.0, 2.0]
    assert not controls.button.disabled
    assert "done" in controls.status.value


def test_error_is_shown_and_last_result_kept():
    controls = LiveControls(_figure, {"a": slider("a", 1.0, -5.0, 5.0), "n": slider("n", 3, 1, 10, integer=True)})
    controls.train()
    good = controls.result
    controls.controls["a"].value = -1.0
    assert controls.train() is None
    assert "a must be &gt;= 0" in controls.status.value
    assert controls.result is good
    assert not controls.button.disabled


def test_log_slider_and_values():
    s = slider("lr", 0.1, 0.001, 1.0, log=True)
    assert isinstance(s, widgets.FloatLogSlider)
    assert s.value == pytest.approx(0.1)


@pytest.mark.parametrize("run, controls, error", [
    ("not callable", {"a": slider("a", 1.0, 0.0, 2.0)}, TypeError),
    (_figure, {}, ValueError),
    (_figure, {"a": 3}, TypeError),
])
def test_bad_arguments(run, controls, error):
    with pytest.raises(error):
        LiveControls(run, controls)
