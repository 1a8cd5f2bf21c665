"""ganlab: train, measure and watch Generative Adversarial Networks.

The engine of the course. Modules, in the order the course meets them:

- ``ganlab.data``: toy distributions with exact densities, and your own points;
- ``ganlab.models``: generators G and discriminators D (MLPs, the course's presets);
- ``ganlab.losses``: objectives (minimax, non-saturating, ...) and penalties (R1, GP, ...);
- ``ganlab.train``: the Trainer and the Run record it writes;
- ``ganlab.metrics``: mode coverage, sample distances, divergences;
- ``ganlab.theory``: the optimal discriminator, the value function, small games;
- ``ganlab.viz``: figures and recorded animations of a run, and live widgets.
"""

__version__ = "0.1.0"
