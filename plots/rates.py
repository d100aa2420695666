"""Rate plot: the metric against the horizon T on log-log axes, with fitted and reference slopes."""

from __future__ import annotations

import numpy as np

from plots._util import as_float, finite_or_none, fmt, need, positive
from plots.style import styles_for

__all__ = ["REFERENCE_SLOPES", "fit_label", "plot_rates"]

#: dashed reference slopes drawn on every rate plot: (exponent, legend text, grey level).
REFERENCE_SLOPES = ((-0.5, "T^-1/2 reference", "0.2"), (-2.0 / 3.0, "T^-2/3 reference", "0.55"))


def fit_label(label: str, slope: float | None, ci=None) -> str:
    """Legend text ``"label: fit −0.49 [−0.52, −0.46]"`` (2 decimals, U+2212 minus).

    Parameters
    ----------
    label : str
        The series label.
    slope : float or None
        Fitted exponent; None or non-finite gives just ``"label"``.
    ci : tuple of float or None, optional
        ``(lo, hi)`` of the slope; left out when None or not finite.

    Returns
    -------
    str
    """
    slope = finite_or_none(slope)
    if slope is None:
        return str(label)
    text = f"{label}: fit {fmt(slope)}"
    if ci is not None:
        lo, hi = (finite_or_none(v) for v in ci)
        if lo is not None and hi is not None:
            text += f" [{fmt(lo)}, {fmt(hi)}]"
    return text


def _medians(T: np.ndarray, values, label) -> np.ndarray:
    if len(values) != len(T):
        raise ValueError(f"fit {label!r}: 'values' has {len(values)} entries but 'T' has {len(T)}")
    med = np.full(len(T), np.nan)
    for j, v in enumerate(values):
        v = as_float(f"values[{j}] of fit {label!r}", np.atleast_1d(v))
        v = v[~np.isnan(v)]
        if v.size:
            med[j] = np.median(v)
    return med


def plot_rates(ax, fits):
    """Draw a rate plot of ``(1/T) Σ_{t<T} ‖∇f(xᵗ)‖²`` against the horizon T and return ``ax``.

    Rates are measured across horizons, each T run with the claim's T-dependent schedule.

    See :ref:`guide-figures`.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    fits : list of dict
        Keys ``"label"``, ``"T"`` (horizons), ``"values"`` (per T, the per-seed values), and
        optionally ``"slope"`` and ``"ci"`` (fitted exponent and its confidence interval
        ``(lo, hi)``; either may be None; a non-finite value counts as None), ``"predicted"`` (−1/2,
        −2/3 or None), ``"intercept"`` (the fit's natural-log intercept b of
        ``log value ≈ b + slope·log T``, as ``theory.fitting.SlopeFit`` gives it; without it the
        fitted line goes through the medians in the least-squares sense, b = mean of
        log median − slope·log T) and ``"color"``, ``"marker"``, ``"linestyle"`` (the fit's style;
        default: the method's, from :func:`plots.style.styles_for` of the label).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.

    Notes
    -----
    Drawn, per fit, in the method's colour (:func:`plots.style.styles_for`):

    * the per-seed values as small faint points (one scatter collection, no legend entry),
    * the median over seeds as a line with markers, legend ``"label: fit −0.49 [−0.52, −0.46]"``,
    * the fitted line ``exp(b)·T^slope`` over the fit's T range (dash-dot, no legend entry).

    Once per axes: dashed reference slopes T^{−1/2} and T^{−2/3} ("T^-1/2 reference",
    "T^-2/3 reference"), anchored at the first median point of the first fit that has one and spanning
    the T range of all fits; the one equal to some fit's ``predicted`` exponent is drawn thicker.
    Axes are log-log; x label "horizon T", y label "(1/T) Σ ‖∇f(xᵗ)‖²". Non-positive values are not drawn.
    """
    fits = list(fits)
    for fit in fits:
        need(fit, ("label", "T", "values"), "fits")
    styles = [{**st, **{k: fit[k] for k in ("color", "marker", "linestyle") if k in fit}}
              for fit, st in zip(fits, styles_for([fit["label"] for fit in fits]), strict=True)]
    anchor, t_all, predicted = None, [], set()
    for fit, st in zip(fits, styles, strict=True):
        label = fit["label"]
        T = as_float(f"T of fit {label!r}", fit["T"])
        if np.any(~np.isfinite(T) | (T <= 0)):
            raise ValueError(f"fit {label!r}: horizons T must be finite and positive, got {T.tolist()}")
        med = positive(_medians(T, fit["values"], label))
        xs = [t for t, v in zip(T, fit["values"], strict=True) for _ in np.atleast_1d(v)]
        ys = [y for v in fit["values"] for y in np.atleast_1d(v)]
        ax.scatter(xs, positive(np.asarray(ys, dtype=np.float64)), s=9, alpha=0.3, color=st["color"],
                   marker=st["marker"], linewidths=0, label="_nolegend_")
        slope, ci = finite_or_none(fit.get("slope")), fit.get("ci")
        ax.plot(T, med, color=st["color"], marker=st["marker"], linestyle=st.get("linestyle", "-")
                if "linestyle" in fit else "-", linewidth=1.2,
                label=fit_label(label, slope, ci))
        ok = np.isfinite(med)
        if slope is not None and (ok.any() or finite_or_none(fit.get("intercept")) is not None):
            b = finite_or_none(fit.get("intercept"))
            if b is None:
                b = float(np.mean(np.log(med[ok]) - slope * np.log(T[ok])))
            tt = np.geomspace(T.min(), T.max(), 50)
            ax.plot(tt, np.exp(b + slope * np.log(tt)), color=st["color"], linestyle="-.", linewidth=1.8,
                    alpha=0.7, marker="None", label="_nolegend_")
        if anchor is None and ok.any():
            anchor = (T[ok][0], med[ok][0])
        t_all.extend(T.tolist())
        if fit.get("predicted") is not None:
            predicted.add(round(float(fit["predicted"]), 6))
    if anchor is not None:
        tt = np.geomspace(min(t_all), max(t_all), 50)
        for expo, text, grey in REFERENCE_SLOPES:
            lw = 1.6 if round(expo, 6) in predicted else 0.9
            ax.plot(tt, anchor[1] * (tt / anchor[0]) ** expo, color=grey, linestyle="--", linewidth=lw,
                    marker="None", label=text)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("(1/T) Σ ‖∇f(xᵗ)‖²")
    if fits:
        ax.legend(fontsize="small")
    return ax
