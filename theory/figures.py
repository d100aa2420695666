"""Figures of a verification report, drawn with the ax-first functions of :mod:`plots`.

rates.png (log-log rate plot with fitted slopes ± CI and dashed reference slopes −1/2, −2/3),
neighborhood.png (plateau vs δζ²), pl.png (f − f* on semilog-y), batch_one.png, and
negative_controls.png when the negative controls ran. Uses matplotlib's object API (no pyplot).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["make_figures"]


def _rate_fit(r) -> dict:
    d = dict(r.data)
    fit = d.get("fit") or {}
    return {"label": d["label"], "T": d["T"], "values": d["values"], "slope": d.get("slope"),
            "ci": d.get("ci"), "predicted": d.get("predicted"), "intercept": fit.get("intercept")}


def make_figures(report, out: str | Path) -> tuple[list[str], str]:
    """Write the figures of ``report`` into ``out``; returns (paths, note). Needs matplotlib and plots."""
    try:
        from matplotlib.figure import Figure

        import plots
    except ImportError as exc:  # pragma: no cover - depends on the installation
        return [], f"figures skipped: {exc}"
    out = Path(out)
    res = report.results
    rate = [_rate_fit(r) for r in res if r.kind == "rate" and not r.negative_control and r.data.get("values")]
    neg_rate = [_rate_fit(r) for r in res if r.kind == "rate" and r.negative_control and r.data.get("values")]
    hood = [s for r in res if r.kind == "neighborhood" for s in r.data.get("series", [])]
    pl = [c for r in res if r.kind == "pl" for c in r.data.get("curves", [])]
    batch = [f for r in res if r.kind == "batch_one" for f in r.data.get("fits", [])]
    jobs = [("rates.png", plots.plot_rates, rate, "Rates across horizons (each T with its own schedule)"),
            ("neighborhood.png", plots.plot_neighborhood, hood, "Byzantine neighborhood: plateau vs δζ²"),
            ("pl.png", plots.plot_pl, pl, "PL problem: f − f* with constant γ, η"),
            ("batch_one.png", plots.plot_rates, batch, "Batch size 1: Byz-DM21 vs Byz-EF21-SGD"),
            ("negative_controls.png", plots.plot_rates, neg_rate, "Negative controls (must FAIL)")]
    paths = []
    for name, fn, data, title in jobs:
        if not data:
            continue
        fig = Figure(figsize=(6.4, 4.6))
        ax = fig.add_subplot()
        fn(ax, data)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
        paths.append(str(plots.save(fig, out / name)))
    return paths, ""
