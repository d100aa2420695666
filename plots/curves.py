"""Convergence curves: median over seeds with a quantile band, per method label, on a log y axis."""

from __future__ import annotations

import numpy as np

from plots._util import positive
from plots.style import styles_for

__all__ = ["BANDS", "X_LABELS", "Y_LABELS", "band_quantiles", "draw_median", "plot_curves", "run_label",
           "seed_matrix", "seeds_text"]

X_LABELS = {"iteration": "iteration t", "bits_up": "bits sent per worker",
            "bits_down": "bits received per worker"}
Y_LABELS = {"grad_sq": "‖∇f(xᵗ)‖²", "grad_sq_avg": "running average of ‖∇f(xˢ)‖², s ≤ t",
            "f_gap": "f(xᵗ) − f*", "dist": "‖xᵗ − x*‖", "agg_err": "aggregation error ‖eᵗ‖²"}
#: named bands over seeds: (low quantile, high quantile, description).
BANDS = {"minmax": (0.0, 1.0, "min–max over seeds"), "iqr": (0.25, 0.75, "25–75% over seeds")}


def seeds_text(n: int) -> str:
    """``"1 seed"`` / ``"3 seeds"``.

    Parameters
    ----------
    n : int
        Number of seeds.

    Returns
    -------
    str
    """
    return f"{n} seed" if n == 1 else f"{n} seeds"


def band_quantiles(band) -> tuple[float, float] | None:
    """``(lo, hi)`` of a band given as "minmax", "iqr", a pair of quantiles or None.

    Parameters
    ----------
    band : str, tuple of float or None
        ``"minmax"`` (0, 1), ``"iqr"`` (0.25, 0.75), ``(lo, hi)`` with 0 ≤ lo < hi ≤ 1, or None /
        ``"none"`` (no band).

    Returns
    -------
    tuple of float or None

    Raises
    ------
    ValueError
        For any other value.
    """
    if band is None or band == "none":
        return None
    if isinstance(band, str):
        if band not in BANDS:
            raise ValueError(f"band must be one of {', '.join(BANDS)}, none or (lo, hi), got {band!r}")
        return BANDS[band][:2]
    lo, hi = (float(v) for v in band)
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"band must be (lo, hi) with 0 <= lo < hi <= 1, got {band!r}")
    return lo, hi


def run_label(run) -> str:
    """A run's label: ``run["label"]`` for a dict, else ``config["name"]``, else the algorithm name.

    Parameters
    ----------
    run : Result or dict
        A result, or a dict with ``"label"`` and ``"curves"`` (a ValueError otherwise).

    Returns
    -------
    str
    """
    if isinstance(run, dict):
        if "label" not in run or "curves" not in run:
            raise ValueError(f"a run given as a dict needs keys 'label' and 'curves', got {sorted(run)}")
        return str(run["label"])
    cfg = run.config
    return str(cfg.get("name") or cfg["algorithm"]["name"])


def _parts(run):
    if isinstance(run, dict):
        return run["curves"], run.get("status", "ok") == "diverged"
    return run.curves, run.status == "diverged"


def seed_matrix(runs, x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    """Common grid and the (runs × grid) matrix of ``y`` on it.

    The grid is the sorted union of the runs' ``x`` values. Each run's ``y`` is linearly interpolated
    inside its recorded x range (exact at its own checkpoints), NaN outside it; a run with status
    "diverged" reads +inf from its first non-finite value on, and after its last recorded point
    (a diverged run counts as worse than any finite value, so medians stay robust to it).

    Parameters
    ----------
    runs : sequence
        Result objects or dicts with ``"curves"`` (optional ``"status"``).
    x, y : str
        Curve names (a ValueError when a run lacks one).

    Returns
    -------
    grid : numpy.ndarray
        The sorted finite x values of all runs.
    Y : numpy.ndarray
        Shape (len(runs), len(grid)).
    """
    cols = []
    for run in runs:
        curves, diverged = _parts(run)
        for key in (x, y):
            if key not in curves:
                raise ValueError(f"a run of label {run_label(run)!r} has no curve {key!r}; "
                                 f"it has {', '.join(sorted(curves))}")
        cols.append((np.asarray(curves[x], np.float64), np.asarray(curves[y], np.float64), diverged))
    grid = np.unique(np.concatenate([c[0][np.isfinite(c[0])] for c in cols]))
    Y = np.full((len(cols), grid.size), np.nan)
    for i, (xr, yr, diverged) in enumerate(cols):
        ok = np.isfinite(xr) & np.isfinite(yr)
        if ok.any():
            xs, ys = xr[ok], yr[ok]
            inside = (grid >= xs[0]) & (grid <= xs[-1])
            Y[i, inside] = np.interp(grid[inside], xs, ys)
        if diverged:
            bad = np.isfinite(xr) & ~np.isfinite(yr)
            Y[i, grid > xr[np.isfinite(xr)][-1]] = np.inf
            if bad.any():
                Y[i, grid >= xr[bad][0]] = np.inf
    return grid, Y


def _quantiles(Y: np.ndarray, qs) -> np.ndarray:
    """Quantiles over runs ignoring NaN; +inf counts as largest; NaN where a quantile is not finite."""
    out = np.full((len(qs), Y.shape[1]), np.nan)
    has = ~np.all(np.isnan(Y), axis=0)
    if not has.any():
        return out
    finite = Y[np.isfinite(Y)]
    top = finite.max() if finite.size else 0.0
    big = np.finfo(np.float64).max / 4  # +inf stand-in: the interpolation of two of them stays finite
    Z = np.where(np.isposinf(Y), big, Y)[:, has]
    q = np.nanquantile(Z, qs, axis=0)
    q[q > top] = np.nan  # the quantile falls among diverged runs
    out[:, has] = q
    return out


def draw_median(ax, runs, x, y, color, linestyle="-", marker="o", band="minmax", label="_nolegend_",
                seed_lines=False):
    """Draw the median over ``runs`` (seeds) of curve ``y`` against ``x`` with a band; return the line.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    runs : list
        Result objects or dicts with ``"curves"`` (optional ``"status"``); aligned by :func:`seed_matrix`.
    x, y : str
        Curve names.
    color, linestyle, marker : str
        Matplotlib styles of the median line (markers every 1/8 of the grid); defaults ``"-"``, ``"o"``.
    band : "minmax", "iqr", (lo, hi) or None
        Shaded quantile band over the runs (drawn with ≥ 2 runs; one collection, no legend entry).
    label : str
        Legend label of the median line.
    seed_lines : bool
        Also draw each run as a thin faint line (no legend entries).

    Returns
    -------
    matplotlib.lines.Line2D
        The median line.
    """
    grid, Y = seed_matrix(runs, x, y)
    if np.all(np.isnan(Y)):
        raise ValueError(f"curve {y!r} is NaN for every run of label {label!r} (f* unknown?)")
    qb = band_quantiles(band)
    q = _quantiles(Y, [0.5] if qb is None else [0.5, *qb])
    (line,) = ax.plot(grid, positive(q[0]), color=color, linestyle=linestyle, linewidth=1.6, marker=marker,
                      markersize=4, markevery=max(1, grid.size // 8), label=label)
    if seed_lines:
        for run in runs:
            curves, _ = _parts(run)
            ax.plot(np.asarray(curves[x], np.float64), positive(np.asarray(curves[y], np.float64)),
                    color=color, linestyle=linestyle, linewidth=0.6, alpha=0.35, marker="None",
                    label="_nolegend_")
    if qb is not None and len(runs) >= 2:
        lo, hi = positive(q[1]), positive(q[2])
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(grid, lo, hi, where=ok, color=color, alpha=0.18, linewidth=0, label="_nolegend_")
    return line


def plot_curves(ax, results, x="iteration", y="grad_sq", band=(0.25, 0.75)):
    """Draw one median curve per label over seeds, with a quantile band or per-seed lines; return ``ax``.

    Runs are grouped by label (:func:`plots.curves.run_label`), in order of first appearance; the
    runs of a label are its seeds, aligned by :func:`plots.curves.seed_matrix` (diverged runs count
    as +inf). See :ref:`guide-figures`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    results : iterable
        :class:`byzref.results.Result` objects, or dicts ``{"label", "curves": {name: array}}``
        (optional ``"status"``).
    x : str, optional
        "iteration" (default), "bits_up" or "bits_down" (cumulative bits per worker) or any curve the
        runs have.
    y : str, optional
        "grad_sq" (default, ‖∇f(xᵗ)‖²), "grad_sq_avg" (its running average, the ε-stationarity
        metric), "f_gap" (f(xᵗ) − f*), "dist", "agg_err" or any curve.
    band : str, tuple of float or None, optional
        Quantile band over seeds: ``(lo, hi)`` (default (0.25, 0.75)), "minmax", "iqr" or None.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Notes
    -----
    Drawn per label in the method's colour and compressor linestyle (:mod:`plots.style`): the median
    over seeds (legend ``"label (3 seeds)"``); with ≥ 5 runs and ``band = (lo, hi)`` (or "minmax",
    "iqr") a shaded band between those quantiles (one collection, no legend entry); with < 5 runs thin
    faint per-seed lines instead (no legend entries). Non-positive values are not drawn. y axis log,
    x axis linear.
    """
    results = list(results)
    have = set().union(*(_parts(r)[0].keys() for r in results)) if results else set()
    if x not in X_LABELS and x not in have:
        raise ValueError(f"x must be one of {', '.join(X_LABELS)} or a curve of the runs, got {x!r}")
    if y not in Y_LABELS and y not in have:
        raise ValueError(f"y must be one of {', '.join(Y_LABELS)} or a curve of the runs, got {y!r}")
    band_quantiles(band)
    groups: dict[str, list] = {}
    for run in results:
        groups.setdefault(run_label(run), []).append(run)
    for (label, runs), st in zip(groups.items(), styles_for(list(groups)), strict=True):
        few = len(runs) < 5
        draw_median(ax, runs, x, y, st["color"], st["linestyle"], st["marker"], band=None if few else band,
                    label=f"{label} ({seeds_text(len(runs))})", seed_lines=few)
    ax.set_yscale("log")
    ax.set_xlabel(X_LABELS.get(x, x))
    ax.set_ylabel(Y_LABELS.get(y, y))
    if groups:
        ax.legend(fontsize="small")
    return ax
