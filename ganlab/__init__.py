"""ganlab: train, measure and watch Generative Adversarial Networks.

The engine of the course. Modules, in the order the course meets them:

- ``ganlab.data``: toy distributions with exact densities, and your own points;
- ``ganlab.models``: generators G and discriminators D (MLPs, the course's presets);
- ``ganlab.losses``: objectives (minimax, non-saturating, ...) and penalties (R1, GP, ...);
- ``ganlab.train``: the Trainer and the Run record it writes;
- ``ganlab.recipes``: named bundles of settings (``textbook``, ``r1``, ...);
- ``ganlab.metrics``: mode coverage, sample distances, divergences;
- ``ganlab.theory``: the optimal discriminator, the value function, small games;
- ``ganlab.viz``: figures and recorded animations of a run, and live controls.

The command line: ``python -m ganlab train | sample | evaluate | recipes | student-edition``.
"""

from ganlab.recipes import RECIPES, get_recipe
from ganlab.train import RunRecord, TrainConfig, Trainer, TrainingDiverged

__version__ = "0.1.0"
__all__ = ["RECIPES", "RunRecord", "TrainConfig", "Trainer", "TrainingDiverged", "get_recipe"]
