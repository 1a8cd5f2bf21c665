"""Argument checks shared by every public function of ``ganlab``.

Each check raises at once with a message that names the parameter, the value
that was given and what is allowed (the scikit-learn discipline), e.g.::

    ValueError: batch_size must be an integer >= 1, got 0
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the allowed range."""
    allowed = "an integer"
    if minimum is not None:
        allowed += f" >= {minimum}"
    if maximum is not None:
        allowed += f" and <= {maximum}" if minimum is not None else f" <= {maximum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {_describe(value)}")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def check_float(
    name: str,
    value,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    """Return ``value`` as a finite float within the bounds, or raise."""
    lo = "" if minimum is None else (f" > {minimum}" if strict_min else f" >= {minimum}")
    hi = "" if maximum is None else f" <= {maximum}"
    allowed = "a finite number" + lo + (" and" if lo and hi else "") + hi
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}, got {_describe(value)}")
    value = float(value)
    too_low = minimum is not None and (value <= minimum if strict_min else value < minimum)
    too_high = maximum is not None and value > maximum
    if not math.isfinite(value) or too_low or too_high:
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def check_choice(name: str, value, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` (strings), or raise listing them."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {options}, got {_describe(value)}")
    return value


def check_seed(name: str, value) -> int | None:
    """A seed is None (fresh randomness) or an integer >= 0."""
    if value is None:
        return None
    return check_int(name, value, minimum=0)


def check_array(name: str, value, *, ndim) -> "np.ndarray":
    """``value`` (array-like or tensor) as a float64 NumPy array whose ndim is ``ndim``
    (an int or a tuple of allowed ints), or raise naming the parameter."""
    import numpy as np

    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"{name} must be a NumPy array of numbers (or a tensor), got {_describe(value)}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a NumPy array of numbers (or a tensor), got {_describe(value)}") from None
    if array.ndim not in allowed:
        raise ValueError(f"{name} must have {' or '.join(str(d) for d in allowed)} dimension(s), "
                         f"got shape {tuple(array.shape)}")
    return array
