"""Figures of a verification report: one per claim, named after the claim id (``<id>.png``).

Every claim gets a figure, failing ones and informational ones included; each shows the numbers its
verdict was decided from (:mod:`plots.verify_figs`):

* rate — avg ‖∇f‖² against T with the fits over all T and over the largest T, and the claimed T^p
  reference anchored on this claim's own fitted line; separation — both curves, each with its own
  reference; batch_one — Byz-DM21 and Byz-EF21-SGD at every σ² the claim uses, the floor ratio;
* neighborhood — one panel per scan (ζ², δ, attack strength z) with its fitted line and slope;
  comparison — the plateaus and the paired differences with their CIs; neighborhood_map — one heat
  map per tuning protocol of the paired ratios per regime and method;
* pl — f − f* for every γ and every σ², with the σ² floors;
* exact_rate — the exact avg ‖∇f‖² against T per regime and its local slopes; exact_plateau — the exact
  plateau ratio per cell; exact_stability — the largest stable γL against η (plots.stability);
* compressor_constants / aggregator_kappa / bound — measured against declared;
* anything else, or a claim whose runs diverged — a figure saying so.

:func:`claim_figure` returns the matplotlib Figure (tests inspect it); :func:`make_figures` writes them.
Uses matplotlib's object API (no pyplot).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["claim_figure", "figure_name", "make_figures"]


def figure_name(claim_id: str) -> str:
    """The file name of a claim's figure: the claim id (characters outside [A-Za-z0-9._-] as "_") + .png.

    Parameters
    ----------
    claim_id : str
        The claim id.

    Returns
    -------
    str
    """
    return re.sub(r"[^A-Za-z0-9._-]", "_", claim_id) + ".png"


def _parts(r) -> list[str]:
    return [p.verdict for p in r.verdict.parts]


def _rate_curve(d: dict) -> dict:
    fit, up = d.get("fit") or {}, d.get("fit_upper") or {}
    return {"label": d.get("label", ""), "algorithm": d.get("algorithm"), "T": d.get("T", []),
            "values": d.get("values", []), "slope": d.get("slope"), "ci": d.get("ci"),
            "intercept": d.get("intercept", fit.get("intercept")), "predicted": d.get("predicted"),
            "upper": up or None}


def _heading(r) -> str:
    tag = " (negative control: must FAIL)" if r.negative_control else ""
    return f"{r.id} — {r.display}{tag}"


def _draw(fig, r) -> None:
    from plots import verify_figs as vf

    d, head, title = r.data or {}, _heading(r), r.title
    kw = {"heading": head, "title": title}
    m = r.verdict.measured or {}
    if r.kind in ("rate", "separation", "batch_one"):
        fig.set_size_inches(7.4, 6.2 + 0.16 * (4 if r.kind == "rate" else 8))  # room for the legend below
    if r.kind == "rate" and d.get("values"):
        note = ""
        if d.get("slope") is None:
            note = f"no fit: {r.verdict.reason}"
        vf.rate_figure(fig, [_rate_curve(d)], note=note, **kw)
    elif r.kind == "separation" and d.get("curves"):
        note = f"Δslope = {vf.num(d.get('difference'))}{vf._ci_text(d.get('ci'))} (claimed < 0)"
        vf.rate_figure(fig, [_rate_curve(c) for c in d["curves"]], note=note, **kw)
    elif r.kind == "batch_one" and d.get("fits"):
        fits = [_rate_curve(f) for f in d["fits"]]
        note = ""
        if d.get("floor_ratio") is not None:
            s = d.get("sigma2s") or ["?", "?"]
            note = (f"floor ratio of Byz-EF21-SGD at T = {d.get('floor_T')}, σ² = {s[-1]:g} vs {s[0]:g}: "
                    f"{vf.num(d['floor_ratio'])}{vf._ci_text(d.get('floor_ratio_ci'))} (claimed > 1)\n"
                    f"Byz-EF21-SGD stalls: its slope must be > {vf.num(d.get('stall_above'))}")
        bracket = None
        if d.get("floor_ratio") is not None and len(fits) >= 3:  # Byz-EF21-SGD at the largest and smallest σ²
            bracket = (1, len(fits) - 1, f"×{vf.num(d['floor_ratio'])}")
        vf.rate_figure(fig, fits, note=note, bracket=bracket, **kw)
    elif r.kind == "neighborhood" and d.get("scans"):
        fig.set_size_inches(14.0, 4.8)
        vf.neighborhood_figure(fig, d["scans"], c=d.get("c"), c_sup=d.get("c_sup"), delta=d.get("delta"),
                               zeta2=d.get("zeta2"), label=d.get("label", ""), algorithm=d.get("algorithm"),
                               parts=_parts(r), **kw)
    elif r.kind == "comparison" and d.get("per_seed"):
        fig.set_size_inches(11.0, 4.8)
        vf.comparison_figure(fig, d["per_seed"], d.get("log_ratios", []), reference=d.get("reference", ""),
                             parts=_parts(r), **kw)
    elif r.kind == "neighborhood_map" and d.get("cells"):
        fig.set_size_inches(13.0, max(3.6, 1.9 + 0.62 * len(d["cells"])))
        vf.neighborhood_map_figure(fig, d, **kw)
    elif r.kind == "exact_rate" and d.get("regimes"):
        fig.set_size_inches(8.0, 6.4)
        from theory.verdicts import TOL

        vf.exact_rate_figure(fig, d, tol=TOL, **kw)
    elif r.kind == "exact_plateau" and d.get("cells"):
        fig.set_size_inches(10.0, 5.6)
        vf.exact_plateau_figure(fig, d, **kw)
    elif r.kind == "exact_stability" and d.get("curves"):
        from plots.stability import plot_stability

        fig.set_size_inches(12.0, 5.8)
        plot_stability(fig.add_subplot(), d)
        vf.title_figure(fig, head, title)
    elif r.kind == "pl" and d.get("gamma_curves"):
        fig.set_size_inches(12.0, 4.8)
        vf.pl_figure(fig, d["gamma_curves"], d.get("sigma2_curves", []), label=d.get("label", ""),
                     algorithm=d.get("algorithm"), mu=d.get("mu"), rate_slope=d.get("rate_slope"),
                     rate_slope_ci=d.get("rate_slope_ci"), floor_slope=d.get("floor_slope"),
                     floor_slope_ci=d.get("floor_slope_ci"), slope_band=d.get("slope_band", (0.75, 1.25)),
                     parts=_parts(r), **kw)
    elif r.kind == "compressor_constants" and d.get("table"):
        fig.set_size_inches(11.0, 4.0)
        vf.constants_figure(fig, d["table"], **kw)
    elif r.kind == "aggregator_kappa" and d.get("table"):
        vf.kappa_figure(fig, d["table"], **kw)
    elif r.kind == "bound" and "empirical" in d:
        metric = next((k for k in m if k != "worst_ratio_over_seeds"), "value")
        vf.bound_figure(fig, d.get("empirical"), d.get("bound"), metric=metric, **kw)
    else:
        vf.text_figure(fig, [f"Nothing to draw for this claim ({r.kind}).",
                             f"Verdict {r.verdict.verdict}: {r.verdict.reason}",
                             f"Criterion: {r.verdict.criterion}"])
        vf.title_figure(fig, head, title)


def claim_figure(r):
    """The matplotlib Figure of one :class:`~theory.claims.base.ClaimResult`.

    Parameters
    ----------
    r : theory.claims.base.ClaimResult
        The decided claim.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.4, 5.4), layout="constrained")
    _draw(fig, r)
    return fig


def _write_figure(r, path: Path) -> str:
    """Draw the figure of the decided claim ``r`` and save it at ``path`` (a task of the figure pool)."""
    from plots.io import save

    return str(save(claim_figure(r), path))


def make_figures(report, out: str | Path, workers: int = 1) -> tuple[list[str], str]:
    """Write one figure per claim of ``report`` into ``out`` (``<claim id>.png``); returns (paths, note).

    Needs matplotlib; without it no figure is written and the note says why.

    Parameters
    ----------
    report : theory.report.Report
        The decided claims.
    out : str or pathlib.Path
        The directory.
    workers : int, optional
        Processes that draw the figures (default 1: this process). Each figure is drawn by one
        process from the same numbers, so the files do not depend on ``workers``.

    Returns
    -------
    paths : list of str
        The written files, in the order of the claims.
    note : str
        Empty, or why no figure was written.
    """
    try:
        import matplotlib  # noqa: F401

        import plots.io  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installation
        return [], f"figures skipped: {exc}"
    out = Path(out)
    targets = [out / figure_name(r.id) for r in report.results]
    if workers <= 1 or len(targets) <= 1:
        return [_write_figure(r, p) for r, p in zip(report.results, targets, strict=True)], ""
    from byzref._sweep_exec import process_pool

    with process_pool(min(workers, len(targets))) as pool:
        futures = [pool.submit(_write_figure, r, p) for r, p in zip(report.results, targets, strict=True)]
        return [f.result() for f in futures], ""
