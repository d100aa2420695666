"""Figures of ``byzref verify``: one per claim, drawn on a given matplotlib ``Figure`` (no pyplot state).

Every function takes plain data (the ``data`` of a :class:`theory.claims.base.ClaimResult`) and draws the
numbers its verdict was decided from, so a reader can check the verdict on the figure:

* :func:`rate_figure` — avg ‖∇f‖² against the horizon T (log-log): per-seed points, the geometric mean
  over seeds (what the slope is fitted to), the fitted line over all T and over the largest T ("top"),
  and for each curve that predicts an exponent p a dashed reference line T^p anchored on THAT curve's
  fitted line at its smallest T (legend: the exponent and the curve it is anchored on);
* :func:`neighborhood_figure` — one panel per scan (ζ², δ, attack strength z), each with its fitted
  line, slope and CI in the legend and the accepted slope range in the panel title;
* :func:`comparison_figure` — the plateaus per method and seed, and the paired relative differences
  with their CIs against 0;
* :func:`neighborhood_map_figure` — the neighborhood map: per regime and other method, the paired ratio
  of the tuned methods (one heat map per tuning protocol), its CI and whether the ordering is seen;
* :func:`pl_figure` — f(xᵗ) − f* for every γ and every σ² of the claim, with the σ² floors;
* :func:`constants_figure`, :func:`kappa_figure`, :func:`bound_figure` — measured against declared;
* :func:`text_figure` — a figure that says why there is nothing to draw (e.g. diverged runs).

Lines carry a ``gid`` ("fit:<what>", "top:<what>", "reference:<what>", "curve:<what>", "floor:<what>")
so that tests can find them.
"""

from __future__ import annotations

import math
import re
import textwrap
from fractions import Fraction

import numpy as np

from plots._util import fmt, positive
from plots.style import style_for, styles_for

__all__ = ["AVG_GRAD_SQ", "PLATEAU", "bound_figure", "comparison_figure", "constants_figure", "display_label",
           "exact_plateau_figure", "exact_rate_figure", "exponent_text", "kappa_figure",
           "neighborhood_figure", "neighborhood_map_figure", "num", "par", "pl_figure", "rate_figure",
           "text_figure", "title_figure"]

AVG_GRAD_SQ = r"$(1/T)\,\sum_{t<T}\,\|\nabla f(x^t)\|^2$"
PLATEAU = r"plateau of $\|\nabla f(x^t)\|^2$"
GAP = r"$f(x^t) - f^\star$"
LEGEND = {"fontsize": 7, "framealpha": 0.85}


def _display_names() -> dict[str, str]:
    try:
        from byzref.select import DISPLAY_NAMES
    except ImportError:  # pragma: no cover - plots without byzref
        return {}
    return dict(DISPLAY_NAMES)


_NAMES = _display_names()
_NAME_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _NAMES), key=len, reverse=True)) + r")\b") \
    if _NAMES else None


def display_label(label: str, algorithm: str | None = None) -> str:
    """``label`` with algorithm ids replaced by the paper's names (byz_vr_dm21 → Byz-VR-DM21).

    Parameters
    ----------
    label : str
        A curve or run label.
    algorithm : str or None, optional
        The method's registered name; when given and the label names no method, the method's
        display name is put in front (``"Byz-DM21: label"``).

    Returns
    -------
    str
    """
    text = str(label)
    if _NAME_RE is not None:
        text = _NAME_RE.sub(lambda m: _NAMES[m.group(1)], text)
    if algorithm:
        name = _NAMES.get(algorithm, algorithm)
        if name not in text and algorithm not in text:
            text = f"{name}: {text}"
    return text


def par(v) -> str:
    """A set parameter or threshold (0.75, 0.2, 0): shortest form (up to 4 significant digits).

    Parameters
    ----------
    v : float or None
        The value (None gives ``"–"``).

    Returns
    -------
    str
        ``num(v, 4, zeros=False)``.
    """
    return num(v, 4, zeros=False)


def num(v, sig: int = 3, zeros: bool = True) -> str:
    """A measured number for reading, with U+2212 minus and ×10ⁿ for very small or large ones.

    Parameters
    ----------
    v : float or None
        The value; None gives ``"–"``, ±inf ``"∞"``/``"−∞"``.
    sig : int, optional
        Significant digits (default 3); a nonzero value of magnitude below 10⁻³ or from 10⁵ on is
        written as m×10^e.
    zeros : bool, optional
        Keep trailing zeros (default True: ``1.00``; False: ``1``).

    Returns
    -------
    str
    """
    if v is None:
        return "–"
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        m, e = f"{v:.{sig - 1}e}".split("e")
        return f"{fmt(float(m), f'.{sig - 1}f')}×10^{int(e)}".replace("-", "\u2212")
    if v == 0:
        return "0"
    if abs(v) >= 10**sig:  # 1700, not 1.70e+03
        return f"{v:.0f}".replace("-", "\u2212")
    text = format(v, f"#.{sig}g" if zeros else f".{sig}g")  # "#": trailing zeros kept (1.00, not 1)
    if "e" not in text:
        text = text.rstrip(".")
    else:  # .4g of a large integer-valued parameter
        text = f"{v:.0f}" if v == int(v) else text
    return text.replace("-", "\u2212")


def _mnum(v, sig: int = 3) -> str:
    """:func:`num` for matplotlib text (×10ⁿ as mathtext)."""
    s = num(v, sig)
    if "×10^" in s:
        m, e = s.split("×10^")
        return f"{m}$\\times10^{{{e.replace(chr(0x2212), '-')}}}$"
    return s


def exponent_text(p: float) -> str:
    """−0.5 → "−1/2", −2/3 → "−2/3" (a fraction with denominator ≤ 12, else 3 decimals).

    Parameters
    ----------
    p : float
        An exponent.

    Returns
    -------
    str
        With U+2212 minus.
    """
    f = Fraction(float(p)).limit_denominator(12)
    if abs(float(f) - float(p)) > 1e-9:
        return fmt(p, ".3f")
    text = str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"
    return text.replace("-", "\u2212")


def _ci_text(ci) -> str:
    if ci is None or len(ci) != 2 or any(c is None or not np.isfinite(float(c)) for c in ci):
        return ""
    return f" [{num(ci[0])}, {num(ci[1])}]"


def title_figure(fig, heading: str, title: str = "") -> None:
    """The figure's heading (claim id — verdict) and, wrapped below it, the claim's title.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    heading : str
        First line of the title.
    title : str, optional
        Wrapped at 95 characters below the heading (default ``""``).
    """
    text = heading + ("\n" + "\n".join(textwrap.wrap(title, 95)) if title else "")
    fig.suptitle(text, fontsize=10)


def text_figure(fig, lines: list[str]):
    """A figure holding only text (nothing measurable to draw); returns the axes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    lines : list of str
        The lines of text.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.02, 0.95, "\n".join(textwrap.fill(s, 90) for s in lines), va="top", ha="left", fontsize=9,
            transform=ax.transAxes)
    return ax


# ---------------------------------------------------------------------------------------------- rates


def _per_t(values) -> list[np.ndarray]:
    return [np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in values]


def _geomean(vals: list[np.ndarray]) -> np.ndarray:
    out = np.full(len(vals), np.nan)
    for i, v in enumerate(vals):
        v = v[np.isfinite(v) & (v > 0)]
        if v.size:
            out[i] = float(np.exp(np.log(v).mean()))
    return out


def _line(slope, intercept, T: np.ndarray):
    """exp(b)·T^slope on a geometric grid over T's range, or None when the fit is missing."""
    if slope is None or intercept is None or not (np.isfinite(slope) and np.isfinite(intercept)):
        return None
    tt = np.geomspace(T.min(), T.max(), 60)
    return tt, np.exp(intercept + slope * np.log(tt))


def _tidy_log(ax) -> None:
    """Tick labels of a log y axis for reading: no minor labels when it spans a decade or more (they
    crowd it); plain numbers (0.4, 2) instead of 4×10⁻¹ when it spans less."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = ax.get_ylim()
    if lo <= 0:
        return
    powers = math.floor(math.log10(hi)) - math.ceil(math.log10(lo)) + 1  # powers of 10 inside the range
    if powers >= 2:
        ax.yaxis.set_minor_formatter(NullFormatter())
        return
    plain = FuncFormatter(lambda v, _: f"{v:.3g}".replace("-", "\u2212"))
    ax.yaxis.set_major_formatter(plain)
    subs = (2.0, 3.0, 5.0) if hi / lo > 4 else (2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
    ax.yaxis.set_minor_locator(LogLocator(subs=subs))
    ax.yaxis.set_minor_formatter(plain)


def _f(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def rate_figure(fig, curves: list[dict], *, heading: str = "", title: str = "", note: str = "",
                bracket: tuple[int, int, str] | None = None):
    """Rate plot of one or more curves; returns the axes.

    Each curve: ``label``, ``T``, ``values`` (per T the per-seed values), optional ``algorithm``,
    ``slope``, ``ci``, ``intercept`` (natural-log intercept of the fit over all T), ``predicted`` (the
    claimed exponent, or None), ``upper`` ({"x", "slope", "ci", "intercept"}: the fit over the largest
    T). The reference line T^predicted of a curve passes through that curve's fitted line at its
    smallest T (through its geometric mean there when it has no fit); its legend names the exponent and
    the curve. ``bracket`` = (i, j, text): a vertical arrow at the largest T between the geometric means
    of curves i and j, labelled ``text`` (e.g. a floor ratio). A curve whose method already appeared is
    drawn with hollow markers and a dashed line.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    curves : list of dict
        The curves, as above.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).
    note : str, optional
        A text box in the upper right corner (default ``""``: none).
    bracket : tuple or None, optional
        ``(i, j, text)`` as above (default None).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = fig.add_subplot()
    names = [display_label(c["label"], c.get("algorithm")) for c in curves]
    styles = styles_for([display_label(c.get("algorithm") or c["label"]) for c in curves])
    greys = ("0.15", "0.45", "0.6")
    seen: dict[str, int] = {}
    means = []
    for k, (c, name, st) in enumerate(zip(curves, names, styles, strict=True)):
        again = seen.get(st["color"], 0)
        seen[st["color"]] = again + 1
        face = "none" if again else st["color"]
        T = np.asarray(c["T"], dtype=np.float64)
        vals = _per_t(c["values"])
        xs = np.concatenate([np.full(v.size, t) for t, v in zip(T, vals, strict=True)]) if len(T) else []
        ys = positive(np.concatenate(vals)) if vals else []
        ax.scatter(xs, ys, s=8, alpha=0.3, color=st["color"], marker=st["marker"], linewidths=0,
                   label="_nolegend_")
        gm = _geomean(vals)
        means.append((T, gm))
        n_seeds = max((v.size for v in vals), default=0)
        ax.plot(T, gm, color=st["color"], marker=st["marker"], markerfacecolor=face,
                linestyle="--" if again else "-", linewidth=0.8,
                label=f"{name} (geometric mean of {n_seeds} seeds)", gid=f"curve:{name}")
        slope, b = _f(c.get("slope")), _f(c.get("intercept"))
        fit = _line(slope, b, T) if len(T) else None
        if fit is not None:
            ax.plot(*fit, color=st["color"], linestyle="-.", linewidth=1.6, alpha=0.8,
                    label=f"{name} fit over all T: slope {num(slope)}{_ci_text(c.get('ci'))}",
                    gid=f"fit:{name}")
        up = c.get("upper") or {}
        top = _line(_f(up.get("slope")), _f(up.get("intercept")), np.asarray(up.get("x") or [np.nan]))
        if top is not None:
            ax.plot(*top, color=st["color"], linestyle=":", linewidth=2.2, alpha=0.9,
                    label=f"{name} fit over the largest {len(up['x'])} T (top): slope {num(up['slope'])}"
                          f"{_ci_text(up.get('ci'))}", gid=f"top:{name}")
        p = _f(c.get("predicted"))
        if p is not None and len(T):
            t0 = float(T.min())
            if fit is not None:
                y0 = float(np.exp(b + slope * np.log(t0)))
            else:
                ok = np.isfinite(gm)
                y0 = float(gm[ok][0]) if ok.any() else None
                t0 = float(T[ok][0]) if ok.any() else t0
            if y0 is not None:
                tt = np.geomspace(t0, float(T.max()), 60)
                ax.plot(tt, y0 * (tt / t0) ** p, color=greys[k % len(greys)], linestyle="--", linewidth=1.3,
                        label=f"$T^{{{exponent_text(p).replace(chr(0x2212), '-')}}}$ reference (claimed), "
                              f"anchored on the {name} fit at T = {t0:g}", gid=f"reference:{name}")
                ax.plot([t0], [y0], marker="o", markersize=6, markerfacecolor="none",
                        markeredgecolor=greys[k % len(greys)], linestyle="None", label="_nolegend_")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _tidy_log(ax)
    if bracket is not None and len(means) > max(bracket[0], bracket[1]):
        (ti, gi), (tj, gj) = means[bracket[0]], means[bracket[1]]
        if len(ti) and np.isfinite(gi[-1]) and np.isfinite(gj[-1]):
            ax.annotate("", xy=(ti[-1] * 1.15, gi[-1]), xytext=(tj[-1] * 1.15, gj[-1]),
                        arrowprops={"arrowstyle": "<->", "color": "0.2", "linewidth": 1.0}, gid="bracket")
            ax.annotate(bracket[2], (ti[-1] * 1.2, float(np.sqrt(gi[-1] * gj[-1]))), fontsize=8, ha="left",
                        va="center", color="0.2")
            ax.set_xlim(right=ti[-1] * 2.2)
    ax.set_xlabel("horizon $T$ (each $T$ run with its own schedule)")
    ax.set_ylabel(AVG_GRAD_SQ)
    if note:
        ax.text(0.98, 0.98, note, transform=ax.transAxes, ha="right", va="top", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    if curves:  # below the axes: a legend inside would cover the curves' ends
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=1, **LEGEND)
    if heading:
        title_figure(fig, heading, title)
    return ax


# ------------------------------------------------------------------------------------- neighborhood

_SCAN_AXIS = {"zeta": r"heterogeneity $\zeta^2$", "delta": r"Byzantine fraction $\delta = f/n$",
              "attack": r"ALIE attack strength $z$"}
_SCAN_NAME = {"zeta": r"plateau vs $\zeta^2$", "delta": r"plateau vs $\delta$",
              "attack": r"plateau vs attack strength $z$"}


def _band(band) -> tuple[float, float]:
    out = []
    for v in band:
        try:
            out.append(float(v))  # also "inf" / "-inf" as report.json writes them
        except (TypeError, ValueError):
            out.append(math.nan)
    return out[0], out[1]


def _accepted_text(band) -> str:
    lo, hi = _band(band)
    if math.isinf(hi) or math.isnan(hi):
        return f"slope must be > {par(lo)}"
    if math.isinf(lo) or math.isnan(lo):
        return f"slope must be < {par(hi)}"
    return f"slope must lie in [{par(lo)}, {par(hi)}]"


def neighborhood_figure(fig, scans: list[dict], *, c=None, c_sup=None, delta=None, zeta2=None, label="",
                        algorithm=None, parts: list[str] | None = None, heading: str = "", title: str = ""):
    """One log-log panel per scan; returns the axes.

    Each scan: ``name`` ("zeta", "delta", "attack" or any), ``x``, ``values`` (per x the per-seed
    plateaus), ``slope``, ``ci``, ``intercept`` (the fit of log plateau against log x), ``accepted``
    ([lo, hi] of the slope), ``fixed`` (what is held fixed), optional ``part`` ("a", "b", ...).
    ``parts``: the verdict of each scan's part, in order. ``c`` (with ``delta``): the line c·δζ² on the
    ζ² panel; ``c_sup`` (with ``delta``, ``zeta2``): the level c_sup·δζ² on the attack panel.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    scans : list of dict
        The scans, as above.
    c : float or None, optional
        The fitted neighborhood constant (line c·δζ² on the ζ² panel, with ``delta``).
    c_sup : float or None, optional
        The constant of the attack scan (level c_sup·δζ², with ``delta`` and ``zeta2``).
    delta : float or None, optional
        The Byzantine fraction δ = f/n held fixed.
    zeta2 : float or None, optional
        The heterogeneity ζ² held fixed in the attack scan.
    label : str, optional
        The aggregation rule's name (legend ``"<label> aggregation"``).
    algorithm : str or None, optional
        The method's registered name (:func:`display_label`).
    parts : list of str or None, optional
        The verdict of each scan's part, in order.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    numpy.ndarray
        The axes, one per scan.
    """
    axes = fig.subplots(1, max(1, len(scans)), squeeze=False)[0]
    name = display_label(f"{label} aggregation" if label else "", algorithm)
    st = style_for(name)
    for i, (ax, s) in enumerate(zip(axes, scans, strict=False)):
        x = np.asarray(s["x"], dtype=np.float64)
        vals = _per_t(s["values"])
        xs = np.concatenate([np.full(v.size, t) for t, v in zip(x, vals, strict=True)])
        ax.scatter(xs, positive(np.concatenate(vals)), s=10, alpha=0.35, color=st["color"], linewidths=0,
                   label="_nolegend_")
        gm = _geomean(vals)
        ax.plot(x, gm, color=st["color"], marker=st["marker"], linestyle="None", markersize=6,
                label=f"{name} (geometric mean of {max(v.size for v in vals)} seeds)",
                gid=f"curve:{s['name']}")
        slope, b = _f(s.get("slope")), _f(s.get("intercept"))
        fit = _line(slope, b, x)
        if fit is not None:
            ax.plot(*fit, color=st["color"], linestyle="-", linewidth=1.5, alpha=0.8,
                    label=f"fit: slope {num(slope)}{_ci_text(s.get('ci'))}", gid=f"fit:{s['name']}")
        if s["name"] == "zeta" and _f(c) is not None and _f(delta) is not None:
            xx = np.geomspace(x.min(), x.max(), 50)
            ax.plot(xx, c * delta * xx, color="0.4", linestyle="--", linewidth=1.0,
                    label=rf"$c\,\delta\zeta^2$ with c = {num(c)} (δ = {par(delta)})", gid="c_line")
        if s["name"] == "attack" and None not in (_f(c_sup), _f(delta), _f(zeta2)):
            ax.axhline(c_sup * delta * zeta2, color="0.4", linestyle=":", linewidth=1.0,
                       label=rf"$c_{{sup}}\,\delta\zeta^2$ with $c_{{sup}}$ = {num(c_sup)}", gid="c_sup_line")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _same_decades(ax, x)
        ax.set_xlabel(f"{_SCAN_AXIS.get(s['name'], s['name'])}\n({s.get('fixed', '')})", fontsize=9)
        if i == 0:
            ax.set_ylabel(PLATEAU)
        verdict = f" — {parts[i]}" if parts and i < len(parts) else ""
        part = f"({s['part']}) " if s.get("part") else ""
        ax.set_title(f"{part}{_SCAN_NAME.get(s['name'], s['name'])}{verdict}\n"
                     f"{_accepted_text(s.get('accepted', (None, None)))}", fontsize=9)
        ax.legend(loc="best", **LEGEND)
    if heading:
        title_figure(fig, heading, title)
    return axes


def _same_decades(ax, x) -> None:
    """Widen a log-log panel's y range to at least as many decades as its x data spans (about the
    geometric centre), so a slope reads as it is: a flat line looks flat, slope 1 looks like 45°."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x) & (x > 0)]
    lo, hi = ax.get_ylim()
    if x.size < 2 or lo <= 0:
        return
    need = np.log10(x.max() / x.min()) * 1.15
    have = np.log10(hi / lo)
    if have < need:
        mid = 0.5 * (np.log10(lo) + np.log10(hi))
        ax.set_ylim(10 ** (mid - need / 2), 10 ** (mid + need / 2))
    _tidy_log(ax)


# ------------------------------------------------------------------------------------- comparison


def comparison_figure(fig, per_seed: dict[str, list], log_ratios: list[dict], *, reference: str,
                      parts: list[str] | None = None, heading: str = "", title: str = ""):
    """Left: plateau per method (per seed and median). Right: the relative difference
    exp(mean log(plateau_ref / plateau_other)) − 1 in percent with its CI, against 0.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    per_seed : dict
        Method label → its per-seed plateaus.
    log_ratios : list of dict
        Per other method: ``label``, ``log_ratio`` (mean over seeds of log(plateau_ref /
        plateau_other)) and ``ci`` (its 95% CI).
    reference : str
        The reference method's label.
    parts : list of str or None, optional
        The verdict ("PASS"/"FAIL"/…) of each comparison, colouring its point.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    tuple of matplotlib.axes.Axes
        The left and right axes.
    """
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1.0]})
    labels = list(per_seed)
    styles = styles_for(labels)
    rng = np.random.default_rng(0)
    for i, (lab, st) in enumerate(zip(labels, styles, strict=True)):
        y = np.asarray(per_seed[lab], dtype=np.float64)
        ax1.scatter(i + rng.uniform(-0.12, 0.12, y.size), y, s=14, alpha=0.55, color=st["color"],
                    marker=st["marker"], linewidths=0, label="_nolegend_")
        ax1.plot([i - 0.25, i + 0.25], [np.median(y)] * 2, color=st["color"], linewidth=2.0,
                 label=f"{lab}: median {num(np.median(y), 4)}", gid=f"median:{lab}")
    ax1.set_xticks(range(len(labels)), labels, fontsize=8)
    ax1.set_xlim(-0.6, len(labels) - 0.4)
    ax1.set_ylabel(PLATEAU)
    ax1.set_title("plateau per method (dots: seeds)", fontsize=9)
    ax1.legend(**LEGEND)
    for j, r in enumerate(log_ratios):
        est = 100 * (math.exp(float(r["log_ratio"])) - 1)
        lo, hi = (100 * (math.exp(float(v)) - 1) for v in r["ci"])
        verdict = parts[j] if parts and j < len(parts) else ""
        color = {"PASS": "#2ca02c", "FAIL": "#d62728"}.get(verdict, "0.3")
        ax2.errorbar([j], [est], yerr=[[est - lo], [hi - est]], fmt="o", color=color, capsize=5,
                     label=f"{reference} vs {r['label']}: {num(est)}% [{num(lo)}, {num(hi)}] {verdict}",
                     gid=f"ratio:{r['label']}")
    ax2.axhline(0.0, color="0.2", linewidth=1.0)
    lo_y, hi_y = ax2.get_ylim()
    span = max(abs(lo_y), abs(hi_y), 1e-3)
    ax2.set_ylim(-1.2 * span, 1.2 * span)
    ax2.axhspan(-1.2 * span, 0.0, color="#2ca02c", alpha=0.08, label="claimed: below 0 (reference smaller)")
    ax2.set_xticks(range(len(log_ratios)), [f"vs {r['label']}" for r in log_ratios], fontsize=8)
    ax2.set_xlim(-0.6, len(log_ratios) - 0.4)
    ax2.set_ylabel(f"plateau of {reference} relative to the other method − 1 (%)", fontsize=8)
    ax2.set_title("paired difference with 95% CI (PASS needs the whole CI below 0)", fontsize=9)
    ax2.legend(loc="lower left", **LEGEND)
    if heading:
        title_figure(fig, heading, title)
    return ax1, ax2


# ------------------------------------------------------------------------------------ neighborhood map

_PROTOCOL = {"plateau": "(i) each method tuned for its smallest plateau",
             "avg_grad_sq": "(ii) each method tuned for its smallest avg ‖∇f‖² at T = {T}"}


def neighborhood_map_figure(fig, data: dict, *, heading: str = "", title: str = ""):
    """One heat map per tuning protocol (:func:`plots.neighborhood.plot_neighborhood_map`); returns the
    axes. ``data`` is a neighborhood_map claim's data: "cells" (each with "name" and "comparisons":
    {"vs", "criterion", "log_ratio", "ci", "state"}), "others", "criteria", "decide_on", "reference", "T".

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    data : dict
        The claim's data, as above.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    numpy.ndarray
        The axes, one per criterion (tuning protocol).
    """
    from plots.neighborhood import plot_neighborhood_map

    cells, others = data.get("cells", []), list(data.get("others", []))
    crits = list(data.get("criteria", ["plateau"]))
    axes = fig.subplots(1, len(crits), squeeze=False)[0]
    finite = [abs(float(c["log_ratio"])) for cell in cells for c in cell["comparisons"]
              if c.get("ci") is not None and np.isfinite(float(c["log_ratio"]))]
    vmax = min(max(max(finite, default=0.0), math.log(1.1)), math.log(4.0))  # shared by both panels
    ref = data.get("reference", "reference")
    for ax, crit in zip(axes, crits, strict=True):
        L = np.full((len(cells), len(others)), np.nan)
        C = np.full((len(cells), len(others), 2), np.nan)
        S = [["inconclusive"] * len(others) for _ in cells]
        N = [[""] * len(others) for _ in cells]
        for i, cell in enumerate(cells):
            for c in cell["comparisons"]:
                if c["criterion"] != crit or c["vs"] not in others:
                    continue
                j = others.index(c["vs"])
                S[i][j], N[i][j] = c.get("state", "inconclusive"), c.get("note", "")
                if c.get("ci") is not None:
                    L[i, j], C[i, j] = float(c["log_ratio"]), c["ci"]
        plot_neighborhood_map(ax, [c["name"] for c in cells], [f"vs {o}" for o in others], L, C, S, notes=N,
                              vmax=vmax, colorbar=ax is axes[-1])
        decides = "decides the verdict" if crit in data.get("decide_on", []) else "shown, not counted"
        what = "plateau" if crit == "plateau" else "avg ‖∇f‖²"
        ax.set_title(f"{_PROTOCOL.get(crit, crit).format(T=data.get('T', '?'))}\n"
                     f"{what} of {ref} / of the other − 1 (95% CI) — {decides}", fontsize=9)
    if heading:
        title_figure(fig, heading, title)
    return axes


# --------------------------------------------------------------------------------------------- PL


def _powers_of_ten(v: float) -> str:
    e = math.log10(v)
    return f"$10^{{{round(e)}}}$" if abs(e - round(e)) < 1e-9 else _mnum(v)


def pl_figure(fig, gamma_curves: list[dict], sigma2_curves: list[dict], *, label="", algorithm=None, mu=None,
              rate_slope=None, rate_slope_ci=None, floor_slope=None, floor_slope_ci=None,
              slope_band=(0.75, 1.25),
              parts: list[str] | None = None, heading: str = "", title: str = ""):
    """Left: f − f* for every γ (σ² fixed), legend ρ and rate/(γμ). Right: f − f* for every σ² (γ fixed)
    with each run's floor as a dashed line. Semilog-y.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    gamma_curves : list of dict
        Per γ: ``t``, ``gap``, ``gamma``, ``sigma2``, ``factor`` (fitted ρ), ``rate_over_gamma_mu``
        and its ``rate_over_gamma_mu_ci``.
    sigma2_curves : list of dict
        Per σ²: ``t``, ``gap``, ``sigma2``, ``gamma`` and ``floor`` (or None).
    label : str, optional
        The run's label (:func:`display_label`).
    algorithm : str or None, optional
        The method's registered name.
    mu : float or None, optional
        The PL constant μ (shown in the heading).
    rate_slope, rate_slope_ci : float, tuple or None, optional
        The fitted slope of the rate against γ and its CI.
    floor_slope, floor_slope_ci : float, tuple or None, optional
        The fitted slope of the floor against σ² and its CI.
    slope_band : tuple of float, optional
        The accepted range of both slopes (default (0.75, 1.25)).
    parts : list of str or None, optional
        The verdicts of parts (a), (b), (c).
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    tuple of matplotlib.axes.Axes
        The left and right axes.
    """
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    name = display_label(label, algorithm)
    pv = (parts or []) + ["", "", ""]
    cm = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")
    for i, c in enumerate(gamma_curves):
        t, gap = np.asarray(c["t"], dtype=np.float64), positive(np.asarray(c["gap"], dtype=np.float64))
        ax1.plot(t, gap, color=cm[i % len(cm)], linewidth=1.2,
                 label=f"γ = {par(c['gamma'])}: ρ = {num(c.get('factor'), 4)}, "
                       f"rate/(γμ) = {num(c.get('rate_over_gamma_mu'))}"
                       f"{_ci_text(c.get('rate_over_gamma_mu_ci'))}",
                 gid=f"gamma:{c['gamma']:g}")
    s0 = gamma_curves[0]["sigma2"] if gamma_curves else None
    ax1.set_yscale("log")
    ax1.set_xlabel("iteration $t$")
    ax1.set_ylabel(GAP)
    ax1.set_title(f"(a, b) every γ, σ² = {_powers_of_ten(s0) if s0 else '?'} — {pv[0]}/{pv[1]}\n"
                  f"slope of rate vs γ: {num(rate_slope)}{_ci_text(rate_slope_ci)} "
                  f"({_accepted_text(slope_band)[6:]})",
                  fontsize=9)
    ax1.legend(loc="upper right", **LEGEND)
    for j, c in enumerate(sigma2_curves):
        color = cm[j % len(cm)]
        t, gap = np.asarray(c["t"], dtype=np.float64), positive(np.asarray(c["gap"], dtype=np.float64))
        ax2.plot(t, gap, color=color, linewidth=1.2, label=f"σ² = {_powers_of_ten(c['sigma2'])}",
                 gid=f"sigma2:{c['sigma2']:g}")
        if _f(c.get("floor")) is not None:
            ax2.axhline(c["floor"], color=color, linestyle="--", linewidth=1.0,
                        label=f"floor {_mnum(c['floor'])}", gid=f"floor:{c['sigma2']:g}")
    g0 = sigma2_curves[0]["gamma"] if sigma2_curves else None
    ax2.set_xlabel("iteration $t$")
    ax2.set_title(f"(c) every σ², γ = {par(g0)} — {pv[2]}\nslope of floor vs σ²: {num(floor_slope)}"
                  f"{_ci_text(floor_slope_ci)} ({_accepted_text(slope_band)[6:]})", fontsize=9)
    ax2.legend(loc="upper right", **LEGEND)
    if heading:
        title_figure(fig, heading + (f" ({name}, μ = {par(mu)})" if name else ""), title)
    return ax1, ax2


# ------------------------------------------------------------------- measured vs declared constants


def constants_figure(fig, rows: list[dict], *, heading: str = "", title: str = ""):
    """Declared vs empirical compressor constants: α (needs empirical ≥ declared) and ω (≤ declared).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    rows : list of dict
        Per compressor and constant: ``compressor``, ``constant`` ("alpha" or "omega"),
        ``declared``, ``empirical`` and ``holds``.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    numpy.ndarray
        The axes, one per constant present.
    """
    panels = [(k, [r for r in rows if r.get("constant") == k]) for k in ("alpha", "omega")]
    panels = [p for p in panels if p[1]] or [("alpha", [])]
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (kind, rs) in zip(axes, panels, strict=True):
        y = np.arange(len(rs))
        for i, r in enumerate(rs):
            bad = r.get("holds") is False
            ax.plot([_f(r["declared"])], [i], marker="|", markersize=16, markeredgewidth=2.5, color="0.3",
                    linestyle="None", label="declared" if i == 0 else "_nolegend_",
                    gid=f"declared:{r['compressor']}")
            ax.plot([_f(r["empirical"])], [i], marker="o", markersize=6, linestyle="None",
                    color="#d62728" if bad else "#1f77b4", label="empirical" if i == 0 else "_nolegend_",
                    gid=f"empirical:{r['compressor']}")
        ax.set_yticks(y, [r["compressor"] for r in rs], fontsize=8)
        ax.set_ylim(-0.7, len(rs) - 0.2)
        if kind == "omega":
            top = max([_f(r["empirical"]) or 0.0 for r in rs] + [_f(r["declared"]) or 0.0 for r in rs]
                      + [1.0])
            ax.set_xscale("symlog", linthresh=0.1)
            ax.set_xlim(-0.02, top * 2.5)
            ax.set_xlabel(r"variance $\omega$: $E\|C(x)-x\|^2 / \|x\|^2$ (must be ≤ declared)", fontsize=8)
        else:
            ax.set_xlim(0, 1.05)
            ax.set_xlabel(r"contraction $\alpha$ = 1 − worst $E\|C(x)-x\|^2/\|x\|^2$ (must be ≥ declared)",
                          fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        for i, r in enumerate(rs):  # the numbers, kept inside the panel
            x = _f(r["empirical"]) or 0.0
            frac = ax.transAxes.inverted().transform(ax.transData.transform((x, i)))[0]
            ha, dx = ("left", -6) if frac < 0.2 else ("right", 6) if frac > 0.8 else ("center", 0)
            ax.annotate(f"{num(r['empirical'])} (declared {par(r['declared'])})", (x, i), xytext=(dx, 9),
                        textcoords="offset points", ha=ha, fontsize=7, color="0.25")
        ax.legend(loc="lower right", **LEGEND)
    if heading:
        title_figure(fig, heading, title)
    return axes


def kappa_figure(fig, rows: list[dict], *, heading: str = "", title: str = ""):
    """κ_emp and c_emp per aggregator (log x), with the lower bound f/(n − 2f) and declared κ.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    rows : list of dict
        Per aggregator: ``aggregator``, ``kappa_empirical``, optional ``c_empirical``,
        ``kappa_declared`` and ``lower_bound`` (read from the first row).
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    lb = _f(rows[0].get("lower_bound")) if rows else None
    for i, r in enumerate(rows):
        ax.plot([_f(r["kappa_empirical"])], [i], "o", color="#1f77b4",
                label="κ measured" if i == 0 else "_nolegend_", gid=f"kappa:{r['aggregator']}")
        if _f(r.get("c_empirical")) is not None:
            ax.plot([r["c_empirical"]], [i], "s", markerfacecolor="none", color="#ff7f0e",
                    label="c_emp measured" if i == 0 else "_nolegend_")
        dec = r.get("kappa_declared")
        if _f(dec) is not None:
            ax.plot([float(dec)], [i], "|", markersize=16, markeredgewidth=2.5, color="0.2",
                    label="κ declared", gid=f"declared:{r['aggregator']}")
        ax.annotate(num(r["kappa_empirical"]), (_f(r["kappa_empirical"]), i), xytext=(0, 7),
                    textcoords="offset points", ha="center", fontsize=7, color="0.25")
    if lb is not None:
        ax.axvline(lb, color="0.4", linestyle="--", linewidth=1.0,
                   label=f"lower bound f/(n − 2f) = {num(lb)}")
    def tick(r):
        dec = r.get("kappa_declared")
        if dec is None:
            return r["aggregator"]
        try:
            return f"{r['aggregator']} (declared κ = {par(float(dec))})"
        except (TypeError, ValueError):
            return f"{r['aggregator']} (declared κ = {dec})"

    ax.set_yticks(y, [tick(r) for r in rows], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.3)
    n_declared = sum(r.get("kappa_declared") is not None for r in rows)
    ax.text(0.99, 0.99, f"{n_declared} of {len(rows)} rules declare κ; only those are checked "
            "(κ measured ≤ declared)",
            transform=ax.transAxes, ha="right", va="top", fontsize=7, color="0.25")
    ax.set_xscale("log")
    ax.set_xlabel(r"empirical constant (κ: $(f,\kappa)$-robustness; c: $(\delta, c)$-robustness), log scale",
                  fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", **LEGEND)
    if heading:
        title_figure(fig, heading, title)
    return ax


def bound_figure(fig, empirical, bound, *, metric: str = "value", heading: str = "", title: str = ""):
    """Two bars: the measured value and its explicit bound (log y).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    empirical : float or None
        The measured value.
    bound : float or None
        Its explicit bound.
    metric : str, optional
        What is measured (bar and axis label; default ``"value"``).
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = fig.add_subplot()
    vals = [_f(empirical), _f(bound)]
    ax.bar([0, 1], [v if v is not None else np.nan for v in vals], color=["#1f77b4", "0.6"], gid="bars")
    ax.set_xticks([0, 1], [f"measured {metric}", "bound"])
    for i, v in enumerate(vals):
        if v is not None:
            ax.annotate(num(v, 4), (i, v), ha="center", va="bottom", fontsize=8)
    if all(v is not None and v > 0 for v in vals):
        ax.set_yscale("log")
    ax.set_ylabel(metric)
    if heading:
        title_figure(fig, heading, title)
    return ax


# ------------------------------------------------------------------------------------------ exact claims

def exact_rate_figure(fig, data: dict, *, heading: str = "", title: str = "", tol: float | None = None):
    """An exact rate claim: avg ‖∇f‖² against T per regime (top) and its local slopes (bottom).

    ``data``: ``T``, ``predicted``, ``regimes`` [{"regime", "values", "local_slopes", "slope"}]. The bottom
    panel marks the predicted slope and, with ``tol``, the accepted band; returns the two axes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    data : dict
        The claim's data, as above.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).
    tol : float or None, optional
        Half-width of the accepted band around the predicted slope (default None: no band).

    Returns
    -------
    tuple of matplotlib.axes.Axes
        The top and bottom axes.
    """
    top, bot = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    T = np.asarray(data.get("T", []), dtype=float)
    p = _f(data.get("predicted"))
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    for k, g in enumerate(data.get("regimes", [])):
        v = positive(np.asarray(g["values"], dtype=float))
        c = colours[k % len(colours)]
        top.plot(T, v, color=c, marker="o", markersize=3, linewidth=1.2,
                 label=f"{g['regime']}: asymptotic slope {num(g['slope'])}")
        if p is not None and len(T) and np.isfinite(v[-1]):
            tt = np.geomspace(T[len(T) // 2], T[-1], 30)
            top.plot(tt, v[-1] * (tt / T[-1]) ** p, color=c, linestyle="--", linewidth=0.9, alpha=0.7,
                     label="_nolegend_")
        ls = np.asarray(g.get("local_slopes") or [], dtype=float)
        if ls.size:
            mid = np.sqrt(T[1:] * T[:-1])
            bot.plot(mid, ls, color=c, marker="o", markersize=3, linewidth=1.2, label="_nolegend_")
    if p is not None:
        tex = exponent_text(p).replace(chr(0x2212), "-")
        top.plot([], [], color="0.3", linestyle="--",
                 label=f"$T^{{{tex}}}$ (claimed), through each curve's last point")
        bot.axhline(p, color="0.2", linestyle="--", linewidth=1.0, label=f"claimed slope {num(p)}")
        if tol is not None:
            bot.axhspan(p - tol, p + tol, color="0.85", zorder=0, label=f"accepted: ±{num(tol)}")
    for ax in (top, bot):
        ax.set_xscale("log")
        ax.grid(True, which="major", alpha=0.3)
    top.set_yscale("log")
    top.set_ylabel(AVG_GRAD_SQ + " (exact)")
    bot.set_ylabel("local slope")
    bot.set_xlabel("horizon $T$ (each $T$ with its own schedule)")
    top.legend(loc="lower left", **LEGEND)
    bot.legend(loc="best", **LEGEND)
    if heading:
        title_figure(fig, heading, title)
    return top, bot


def exact_plateau_figure(fig, data: dict, *, heading: str = "", title: str = ""):
    """An exact plateau comparison: the ratio Byz-DM21 / Byz-EF21-SGDM per cell (log scale, 1 marked).

    ``data``: ``mode`` ("equal" or "tuned"), ``cells`` (each with ``regime``, ``ratio`` and
    ``gamma_L``/``eta`` or ``rule``). Unstable cells (infinite ratio) are listed in a note instead of drawn.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        An empty figure to draw on.
    data : dict
        The claim's data, as above.
    heading : str, optional
        The claim id and verdict; with it the figure gets a title (:func:`title_figure`). Default
        ``""``: no title.
    title : str, optional
        The claim's title, wrapped below the heading (default ``""``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = fig.add_subplot()
    cells = data.get("cells", [])
    regimes = list(dict.fromkeys(c["regime"] for c in cells))
    colours = ("tab:blue", "tab:orange", "tab:green", "tab:red")
    labels, unstable = [], []
    for i, c in enumerate(cells):
        lab = (f"γL={c['gamma_L']:g}, η={c['eta']:g}" if data.get("mode") == "equal"
               else f"best by {c['rule']}")
        labels.append(lab)
        r = float(c["ratio"])
        if not math.isfinite(r):
            unstable.append(f"{c['regime'].split(' (')[0]}, {lab}")
            continue
        k = regimes.index(c["regime"])
        new = c["regime"] not in ax.get_legend_handles_labels()[1]
        ax.scatter([i], [r], color=colours[k % len(colours)], marker="os^D"[k % 4], s=30, zorder=3,
                   label=c["regime"] if new else "_nolegend_")
    ax.axhline(1.0, color="0.2", linestyle="--", linewidth=1.0)
    ax.set_yscale("log")
    ax.set_xticks(range(len(cells)), labels, rotation=60, ha="right", fontsize=7)
    from matplotlib.ticker import FuncFormatter

    what = ("stationary plateau" if data.get("mode") == "equal"
            else "stationary plateau, or avg ‖∇f‖² at the budget")
    ax.set_ylabel(f"ratio Byz-DM21 / Byz-EF21-SGDM\n({what}; < 1: Byz-DM21's is smaller)", fontsize=8)
    for axis in (ax.yaxis,):
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.4g}"))
        axis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:.4g}"))
    ax.grid(True, axis="y", which="both", alpha=0.3)
    if regimes:
        ax.legend(loc="best", **LEGEND)
    xlabel = "cell"
    if unstable:  # under the axes, where it cannot cover a point
        note = "unstable for a method (not drawn): " + "; ".join(unstable)
        xlabel += "\n" + "\n".join(textwrap.wrap(note, 120))
    ax.set_xlabel(xlabel, fontsize=8)
    if heading:
        title_figure(fig, heading, title)
    return ax
