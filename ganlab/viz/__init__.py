"""Figures, recorded animations and live views of a GAN run.

- :mod:`ganlab.viz.oned`: one-dimensional games (densities, D(x), losses);
- :mod:`ganlab.viz.live`: controls for a kernel (Jupyter, Colab).
"""

from ganlab.viz.oned import animate_game, game_figure, kde, losses_figure, rounds_figure

__all__ = ["animate_game", "game_figure", "kde", "losses_figure", "rounds_figure"]
