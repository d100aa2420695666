"""Figures from results and verification reports (ax-first functions; no pyplot state).

Each function draws on a given matplotlib ``Axes`` and returns it:
``rates.plot_rates``, ``neighborhood.plot_neighborhood``, ``pl.plot_pl``, ``curves.plot_curves``;
``grid.plot_grid`` draws a grid of curve panels (aggregator × attack); ``plots.cli`` is ``byzref plot``;
``plots.facets`` groups runs into panels and lines (hue, style, col, row); ``plots.labels`` holds the
display names; ``style.style_for`` gives each method one colour and marker; ``save(fig, path)`` writes
PDF, PNG, SVG, PGF or EPS (TrueType fonts, never Type 3).
"""

from plots import curves, grid, neighborhood, pl, rates, style
from plots.curves import plot_curves
from plots.grid import plot_grid
from plots.io import save
from plots.neighborhood import plot_neighborhood
from plots.pl import plot_pl
from plots.rates import plot_rates
from plots.style import style_for

__all__ = ["curves", "grid", "neighborhood", "pl", "plot_curves", "plot_grid", "plot_neighborhood", "plot_pl",
           "plot_rates", "rates", "save", "style", "style_for"]
