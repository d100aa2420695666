"""Grids of convergence panels (aggregator × attack, as in the paper's figures), one legend per figure."""

from __future__ import annotations

import re

from plots.curves import X_LABELS, Y_LABELS, plot_curves

__all__ = ["as_labelled", "plot_grid"]

_COUNT = re.compile(r" \((n = \d+|\d+ seeds?)\)$")  # the seed count plot_curves appends


def as_labelled(run, label: str) -> dict:
    """A Result (or a dict with curves) as the ``{"label", "curves", "status"}`` dict of plot_curves.

    Parameters
    ----------
    run : Result or dict
        A result, or a dict with ``"curves"`` (optional ``"status"``, default ``"ok"``).
    label : str
        The label to give it.

    Returns
    -------
    dict
    """
    if isinstance(run, dict):
        return {"label": label, "curves": run["curves"], "status": run.get("status", "ok")}
    return {"label": label, "curves": run.curves, "status": run.status}


def _ordered(values, order):
    present = list(dict.fromkeys(values))
    if order is None:
        return sorted(present, key=str)
    return [v for v in order if v in present] + sorted((v for v in present if v not in order), key=str)


def plot_grid(fig, results, rows="aggregator", cols="attack", x="iteration", y="grad_sq", label="method",
              row_order=None, col_order=None, band=(0.25, 0.75), sharey=True):
    """Draw a grid of panels, one per (row value, column value), and return the 2-D array of axes.

    Paper layout (the authors' plot scripts: rows of aggregators, columns of attacks): each panel holds the
    convergence curves of every method on the runs of its cell, drawn by :func:`plots.curves.plot_curves`
    (median over seeds, a quantile band with ≥ 5 seeds, faint per-seed lines otherwise; diverged runs
    count as +inf). See :ref:`guide-figures`.

    Drawn: ``fig.subplots(len(rows), len(cols), sharex=True, sharey=sharey)``; log y shared by all panels
    (``sharey="row"`` or False when one column's range would flatten the others);
    panel titles ``"<row value> · <col value>"``; y labels on the first column, x labels on the last
    row; no per-panel legend, ONE figure legend (bottom) with one entry per distinct legend text of the
    panels (its first line). That text is plot_curves' ``"label (k seeds)"``, so a method whose cells
    have different numbers of seeds gets one entry per seed count. An empty cell shows "no runs".

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure (constrained layout recommended: the legend is placed outside the panels).
    results : iterable
        Result objects or dicts with ``"config"``, ``"curves"``, ``"status"`` (at least one).
    rows, cols : str, optional
        Keys of :func:`byzref.select.key_value` (``"method"``, ``"aggregator"``, ``"attack"``, or a
        dotted config path) for the panel rows (default ``"aggregator"``) and columns (default
        ``"attack"``).
    x : str, optional
        A key of ``plots.curves.X_LABELS`` (default ``"iteration"``).
    y : str, optional
        A key of ``plots.curves.Y_LABELS`` (default ``"grad_sq"``).
    label : str or callable, optional
        The curve label: a key as above (default ``"method"``) or a function of a run.
    row_order, col_order : sequence or None, optional
        Order of the row / column values; values not listed follow, sorted (default: all sorted).
    band : str, tuple of float or None, optional
        Quantile band over seeds, as for :func:`plots.curves.plot_curves` (default (0.25, 0.75)).
    sharey : bool or str, optional
        Passed to ``fig.subplots`` (default True).

    Returns
    -------
    numpy.ndarray
        The 2-D array of axes, rows × columns.
    """
    from byzref.select import key_value

    if x not in X_LABELS or y not in Y_LABELS:
        raise ValueError(f"x must be one of {', '.join(X_LABELS)} and y one of {', '.join(Y_LABELS)}, "
                         f"got x={x!r}, y={y!r}")
    results = list(results)
    if not results:
        raise ValueError("plot_grid needs at least one run")
    cells: dict[tuple, list] = {}
    for run in results:
        cell = (key_value(run, rows), key_value(run, cols))
        lab = label(run) if callable(label) else key_value(run, label)
        cells.setdefault(cell, []).append(as_labelled(run, str(lab)))
    rvals = _ordered([c[0] for c in cells], row_order)
    cvals = _ordered([c[1] for c in cells], col_order)
    axes = fig.subplots(len(rvals), len(cvals), sharex=True, sharey=sharey, squeeze=False)
    handles: dict[str, object] = {}
    for i, rv in enumerate(rvals):
        for j, cv in enumerate(cvals):
            ax = axes[i, j]
            runs = cells.get((rv, cv), [])
            if runs:
                plot_curves(ax, runs, x=x, y=y, band=band)
                ax.get_legend().remove()
                for ln in ax.get_lines():
                    lab = ln.get_label()
                    if not lab.startswith("_"):
                        handles.setdefault(_COUNT.sub("", lab), ln)
            else:
                ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", va="center")
                ax.set_yscale("log")
            ax.set_title(f"{rv} · {cv}", fontsize="medium")
            ax.set_ylabel(Y_LABELS[y] if j == 0 else "")
            ax.set_xlabel(X_LABELS[x] if i == len(rvals) - 1 else "")
    fig.legend(list(handles.values()), list(handles), loc="outside lower center", ncol=min(len(handles), 3),
               fontsize="small")  # "outside" keeps it off the panels under constrained layout
    return axes
