"""PL plot: the optimality gap f(xᵗ) − f* on a log axis against t, labelled with the fitted rate."""

from __future__ import annotations

from plots._util import as_float, finite_or_none, fmt, need, positive
from plots.style import styles_for

__all__ = ["plot_pl"]

def plot_pl(ax, curves):
    """Draw f(xᵗ) − f* against t on semilog-y axes; return ``ax``.

    PL claims (arXiv:2603.15144): with constant γ, η the gap contracts linearly, by a factor ρ = 1 − Θ(γμ) per
    iteration, down to a floor set by σ² and c·δζ²/μ.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    curves : list of dict
        Keys ``"label"``, ``"t"`` (iterations), ``"gap"`` (f(xᵗ) − f* at those iterations) and
        optionally ``"rate"`` (the fitted contraction factor ρ, or None; NaN, as from a failed fit,
        counts as None).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Notes
    -----
    Drawn per curve in the method's colour: one line (markers every ~10th point), legend ``"label"`` or
    ``"label (ρ = 0.987)"`` (3 decimals). Non-positive or non-finite gaps are left out (a gap at
    rounding level can be ≤ 0). y axis log, x axis linear; x label "iteration t", y label "f(xᵗ) − f*".
    """
    curves = list(curves)
    for c in curves:
        need(c, ("label", "t", "gap"), "curves")
    styles = styles_for([c["label"] for c in curves])
    for c, st in zip(curves, styles, strict=True):
        t = as_float(f"t of curve {c['label']!r}", c["t"])
        gap = as_float(f"gap of curve {c['label']!r}", c["gap"])
        if t.shape != gap.shape:
            raise ValueError(f"curve {c['label']!r}: 't' has {t.size} values but 'gap' has {gap.size}")
        rate = finite_or_none(c.get("rate"))
        label = str(c["label"]) if rate is None else f"{c['label']} (ρ = {fmt(rate, '.3f')})"
        ax.plot(t, positive(gap), color=st["color"], marker=st["marker"], linestyle=st["linestyle"],
                markevery=max(1, t.size // 10), label=label)
    ax.set_yscale("log")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("f(xᵗ) − f*")
    if curves:
        ax.legend(fontsize="small")
    return ax
