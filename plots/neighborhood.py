"""Neighborhood plot: the plateau of ‖∇f‖² against δζ², with the fitted line c·δζ² (SPEC §6)."""

from __future__ import annotations

import numpy as np

from plots._util import as_float, finite_or_none, fmt, need
from plots.style import styles_for

__all__ = ["plot_neighborhood"]


def plot_neighborhood(ax, series):
    """Draw plateau values against δζ² and, where fitted, the line c·δζ²; return ``ax``.

    SPEC §6 (neighborhood claims): with heterogeneity ζ² > 0 and a Byzantine fraction δ > 0 the plateau
    of ‖∇f‖² scales like c·δζ²; methods are compared by their fitted c under the same attack and
    aggregator.

    ``series`` is a list of dicts with keys ``"label"``, ``"x"`` (the δζ² values), ``"plateau"`` (the
    measured plateau at each x) and ``"c"`` (the fitted constant, or None; NaN counts as None).

    Drawn per series in the method's colour: the points (markers only, legend ``"label"`` or
    ``"label: c = 1.23"`` with 3 significant digits) and, when c is given, the line c·x from the
    smallest to the largest x (solid, no legend entry). Axes are log-log when every x and every plateau
    of every series is positive (and finite), else linear. x label "δζ²", y label "plateau of ‖∇f(xᵗ)‖²".
    """
    series = list(series)
    data = []
    for s in series:
        need(s, ("label", "x", "plateau"), "series")
        x = as_float(f"x of series {s['label']!r}", s["x"])
        y = as_float(f"plateau of series {s['label']!r}", s["plateau"])
        if x.shape != y.shape:
            raise ValueError(f"series {s['label']!r}: 'x' has {x.size} values but 'plateau' has {y.size}")
        data.append((x, y))
    loglog = bool(data) and all(np.all(np.isfinite(v) & (v > 0)) for xy in data for v in xy)
    styles = styles_for([s["label"] for s in series])
    for s, (x, y), st in zip(series, data, styles, strict=True):
        c = finite_or_none(s.get("c"))
        label = str(s["label"]) if c is None else f"{s['label']}: c = {fmt(c, '.3g')}"
        ax.plot(x, y, color=st["color"], marker=st["marker"], linestyle="None", label=label)
        ok = np.isfinite(x)
        if c is not None and ok.any():
            lo, hi = x[ok].min(), x[ok].max()
            xx = np.geomspace(lo, hi, 50) if loglog else np.linspace(lo, hi, 50)
            ax.plot(xx, c * xx, color=st["color"], linestyle="-", linewidth=1.2, alpha=0.8, marker="None",
                    label="_nolegend_")
    scale = "log" if loglog else "linear"
    ax.set_xscale(scale)
    ax.set_yscale(scale)
    ax.set_xlabel("δζ²")
    ax.set_ylabel("plateau of ‖∇f(xᵗ)‖²")
    if series:
        ax.legend(fontsize="small")
    return ax
