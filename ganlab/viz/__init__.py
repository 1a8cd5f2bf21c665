"""Figures, recorded animations and live views of a GAN run.

- :mod:`ganlab.viz.oned`: one-dimensional games (densities, D(x), losses);
- :mod:`ganlab.viz.twod`: two-dimensional games (samples, D's heatmap and
  boundary, G's manifold, gradient arrows, the optimal D*), still and animated;
- :mod:`ganlab.viz.curves`: losses, D's verdicts, metrics and gradient norms over time;
- :mod:`ganlab.viz.images`: grids of generated images, still and animated;
- :mod:`ganlab.viz.live`: controls for a kernel (Jupyter, Colab);
- :mod:`ganlab.viz.playground`: the live playground (GAN Lab in a notebook), and
  :mod:`ganlab.viz.compare`: two to four recipes side by side, in lockstep.
"""

from ganlab.viz.curves import d_output_curves, grad_norm_curves, loss_curves, metric_curves
from ganlab.viz.images import animate_images, image_grid, tile_images
from ganlab.viz.oned import animate_game, game_figure, kde, losses_figure, mapping_figure, optimal_d, rounds_figure
from ganlab.viz.compare import Compare
from ganlab.viz.playground import Playground
from ganlab.viz.twod import (
    LAYERS,
    animate_2d,
    available_layers,
    contour_lines,
    game_figure_2d,
    kde_2d,
    optimal_discriminator_grid,
)

__all__ = [
    "animate_game", "game_figure", "kde", "losses_figure", "mapping_figure", "optimal_d", "rounds_figure",
    "LAYERS", "animate_2d", "available_layers", "contour_lines", "game_figure_2d", "kde_2d",
    "optimal_discriminator_grid",
    "d_output_curves", "grad_norm_curves", "loss_curves", "metric_curves",
    "animate_images", "image_grid", "tile_images",
    "Compare", "Playground",
]
