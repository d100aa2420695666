"""Neighborhood plots: the plateau of ‖∇f‖² against δζ² with the fitted line c·δζ², and the heat map of a
neighborhood comparison over regimes (Li, Liu, Yi, arXiv:2603.15144)."""

from __future__ import annotations

import numpy as np

from plots._util import as_float, finite_or_none, fmt, need
from plots.style import styles_for

__all__ = ["STATE_MARK", "plot_neighborhood", "plot_neighborhood_map"]

#: how each cell state is written in the heat map
STATE_MARK = {"seen": "seen", "not seen": "NOT seen", "inconclusive": "inconclusive"}


def plot_neighborhood(ax, series):
    """Draw plateau values against δζ² and, where fitted, the line c·δζ²; return ``ax``.

    Neighborhood claims: with heterogeneity ζ² > 0 and a Byzantine fraction δ > 0 the plateau
    of ‖∇f‖² scales like c·δζ²; methods are compared by their fitted c under the same attack and
    aggregator.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    series : list of dict
        Keys ``"label"``, ``"x"`` (the δζ² values), ``"plateau"`` (the measured plateau at each x,
        same length) and optionally ``"c"`` (the fitted constant, or None; NaN counts as None).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Notes
    -----
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


def _pct(lr: float) -> str:
    x = 100.0 * (np.exp(lr) - 1.0)
    return ("+" if x > 0 else "") + fmt(x, "#.3g" if abs(x) < 100 else ".0f").rstrip(".") + "%"


def plot_neighborhood_map(ax, rows, cols, log_ratio, ci, states, *, notes=None, vmax=None, colorbar=True):
    """Heat map of log(q_ref / q_other) per cell (rows: regimes, columns: other methods); return ``ax``.

    The colour is the log-ratio on a diverging scale centred at 0 (blue: the reference is smaller,
    red: larger) clipped at ±``vmax``; the colour bar is labelled in percent (exp(v) − 1). Each cell
    is annotated with the ratio − 1 in percent, its CI, its note and its state; a seen cell gets a
    thick black frame with gid "seen:<row>:<col>".

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw (its figure receives the colour bar).
    rows : sequence
        R row labels (regimes).
    cols : sequence
        C column labels (the other methods).
    log_ratio : array_like
        (R, C) log-ratios; NaN: no measurement, drawn grey.
    ci : array_like
        (R, C, 2) confidence intervals of the log-ratios (one of zero width is not written).
    states : list of list of str
        (R, C) nested list of "seen" / "not seen" / "inconclusive" (:data:`STATE_MARK`).
    notes : list of list of str, optional
        (R, C) short notes (e.g. "identical on every seed"), written below the CI; default None.
    vmax : float, optional
        Colour clip; default None: the largest finite magnitude of the log-ratios, clipped to
        [log 1.1, log 4], so one extreme cell does not wash the others out (a clipped cell shows the
        saturated colour and its true number).
    colorbar : bool, optional
        Draw the colour bar (default True).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import FuncFormatter

    rows, cols = [str(r) for r in rows], [str(c) for c in cols]
    L = np.asarray(log_ratio, dtype=np.float64).reshape(len(rows), len(cols))
    C = np.asarray(ci, dtype=np.float64).reshape(len(rows), len(cols), 2)
    if len(states) != len(rows) or any(len(s) != len(cols) for s in states):
        raise ValueError(f"states must be {len(rows)} rows of {len(cols)} states")
    finite = np.abs(L[np.isfinite(L)])
    m = float(vmax) if vmax is not None else float(np.clip(finite.max() if finite.size else 0.0, np.log(1.1),
                                                          np.log(4.0)))
    cmap = _cmap()
    im = ax.imshow(np.ma.masked_invalid(L), cmap=cmap, norm=Normalize(-m, m), aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            st = states[i][j]
            if np.isfinite(L[i, j]):
                lo, hi = C[i, j]
                shown = np.isfinite(lo) and np.isfinite(hi) and lo < hi
                ci_txt = f"[{_pct(lo)}, {_pct(hi)}]" if shown else ""
                note = notes[i][j] if notes is not None else ""
                text = "\n".join(x for x in (_pct(L[i, j]), ci_txt, note, STATE_MARK.get(st, st)) if x)
                dark = abs(L[i, j]) > 0.6 * m
            else:
                note = (notes[i][j] if notes is not None else "") or "no ratio"
                text, dark = f"{note}\n{STATE_MARK.get(st, st)}", False
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="white" if dark else "0.1",
                    fontweight="bold" if st == "seen" else "normal")
            if st == "seen":
                ax.add_patch(Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, edgecolor="black",
                                       linewidth=2.2, gid=f"seen:{i}:{j}"))
    ax.set_xticks(range(len(cols)), cols, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_facecolor("0.85")
    if colorbar:
        ticks = [0.0]  # from 0 outwards, at least 1/12 of the bar apart (no crowded labels)
        for steps in (np.log1p([0.1, 0.25, 0.5, 1.0, 2.0, 3.0]), np.log1p([-0.1, -0.25, -0.5, -0.75])):
            last = 0.0
            for t in steps:
                if abs(t) <= m * (1 + 1e-9) and abs(t - last) >= m / 6:
                    ticks.append(float(t))
                    last = t
        ticks.sort()
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.9, ticks=ticks,
                                format=FuncFormatter(lambda v, _: _pct(v)))
        cb.set_label("reference / other − 1 (blue: reference smaller)", fontsize=8)
        cb.ax.tick_params(labelsize=7)
    return ax


def _cmap():
    from matplotlib import colormaps

    return colormaps["RdBu_r"]
