"""Colours and layout shared by every figure.

The palette is Okabe & Ito's (2008), distinguishable with the common forms of
colour blindness. Real data is always blue, fakes always orange, the
discriminator always green, so a reader learns the code once.
"""

from __future__ import annotations


REAL = "#0072B2"  # blue
FAKE = "#E69F00"  # orange
DISC = "#009E73"  # bluish green
OPTIMAL = "#CC79A7"  # reddish purple: D*, the optimal discriminator
LOSS_D = "#009E73"
LOSS_G = "#D55E00"  # vermillion
GREY = "#7f7f7f"

FONT = dict(family="Helvetica, Arial, sans-serif", size=14)


def base_layout(**overrides) -> dict:
    """A plain white layout with readable fonts, legend on top."""
    layout = dict(
        template="plotly_white",
        font=FONT,
        margin=dict(l=60, r=30, t=60, b=50),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        height=440,
    )
    layout.update(overrides)
    return layout


def rounded(values, digits: int = 4) -> list:
    """Values as a list of floats with a few significant digits.

    Figures are stored in the page as JSON; 4 significant digits are more than the
    eye can see and keep a recorded animation several times smaller.
    """
    import numpy as np

    arr = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(arr == 0, 0, np.floor(np.log10(np.abs(arr))))
    # Clip the exponent so that subnormal values (~1e-310) do not overflow the scale.
    scale = 10.0 ** np.clip(digits - 1 - np.nan_to_num(mag), -300, 300)
    return (np.round(arr * scale) / scale).tolist()


def add_player(fig, names: list, *, frame_ms: int, label: str, redraw: bool = False,
               transition_ms: float | None = None) -> None:
    """Play/Pause buttons and a slider over the frames ``names`` of ``fig``.

    ``transition_ms`` (default 0.8 x ``frame_ms``) is how long scatter points glide
    from one frame to the next. ``redraw=False`` is enough when every changing trace
    is a scatter trace; heatmaps, contours and images only update on a redraw, so
    figures with those need ``redraw=True`` (plotly.js first lets the points glide,
    then redraws the rest at the end of the transition).
    """
    if transition_ms is None:
        transition_ms = frame_ms * 0.8
    play = dict(frame=dict(duration=frame_ms, redraw=redraw), transition=dict(duration=transition_ms),
                fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    fig.update_layout(
        updatemenus=[dict(type="buttons", direction="left", x=0.0, y=-0.07, xanchor="left",
                          yanchor="top", pad=dict(t=30, r=10), showactive=False,
                          buttons=[dict(label="▶ Play", method="animate", args=[None, play]),
                                   dict(label="❚❚ Pause", method="animate", args=[[None], pause])])],
        sliders=[dict(active=0, x=0.3, y=-0.07, len=0.7, xanchor="left", yanchor="top",
                      currentvalue=dict(prefix=label, xanchor="right", font=dict(size=13)), pad=dict(t=30),
                      steps=[dict(label=n, method="animate",
                                  args=[[n], dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                                                  transition=dict(duration=0))]) for n in names])],
    )
    fig.update_layout(margin=dict(b=140))


def png_data_uri(pixels) -> str:
    """An image as a ``data:image/png;base64,...`` URI, for plotly's ``Image``
    traces and layout images (no imaging library needed).

    ``pixels``: uint8 array (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA; row 0 is
    the top. Each row is stored with PNG's "Sub" filter (differences to the pixel
    on the left), which makes smooth images compress several times better.
    """
    import base64
    import struct
    import zlib

    import numpy as np

    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"pixels must be a uint8 array, got dtype {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or min(pixels.shape[:2]) < 1:
        raise ValueError(f"pixels must have shape (H, W), (H, W, 3) or (H, W, 4), got {pixels.shape}")
    h, w, c = pixels.shape
    sub = pixels.copy()
    sub[:, 1:] -= pixels[:, :-1]  # uint8 arithmetic wraps modulo 256, as PNG wants
    raw = np.concatenate([np.ones((h, 1), np.uint8), sub.reshape(h, w * c)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
