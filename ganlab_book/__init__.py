"""Book-build helpers for the course site (not imported by students).

* :mod:`ganlab_book.plotly_renderer` renders plotly figures in executed notebooks
  as a ``<div>`` plus ``Plotly.newPlot``, drawn by a plotly.js the site serves itself.
* :mod:`ganlab_book.sphinx_ext` is the Sphinx extension listed in ``_config.yml``:
  it copies plotly.js into ``_static``, loads it only on pages with figures, and
  removes a duplicated thebe script.
"""
