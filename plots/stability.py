r"""Stability regions: the largest mean-square stable step γL against the momentum η, from the exact moments.

For a quadratic every eigen-direction with curvature a evolves on its own (identity compressor) and its
moment map depends on γa, so the region is a curve γ*(η)·L computed at a = L (:mod:`theory.exact`,
bisection on the spectral radius of the moment map). Under rand_k_biased the coordinates decouple when A
is diagonal; the mask's variance and the number of workers enter, so that curve depends on k/d and n.

Methods: Byz-DM21 (η₂ = η), Byz-VR-DM21 with η₂ = η and with the decoupled η₂ = min(1, √(2η)) (the
relation between η and η₂ of the VR schedule η = 2T^{−2/3}, η₂ = 2T^{−1/3}), Byz-EF21-SGDM (Li, Liu, Yi,
arXiv:2603.15144; Liu, Li, Yi, Johansson, TNNLS 2026). Mean aggregation, f = 0 (an IPM attack on the
mean rescales ĝ by 1 − δ(1 + ε) and so divides γ* by that factor).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["METHODS", "plot_stability", "stability_data"]

#: (label, algorithm name, η₂ as a function of η)
METHODS = (
    ("Byz-DM21 (η₂ = η)", "byz_dm21", lambda eta: eta),
    ("Byz-VR-DM21 (η₂ = η)", "byz_vr_dm21", lambda eta: eta),
    ("Byz-VR-DM21 (η₂ = min(1, √(2η)))", "byz_vr_dm21", lambda eta: min(1.0, math.sqrt(2.0 * eta))),
    ("Byz-EF21-SGDM", "byz_ef21_sgdm", None),
)


def _model(alg_name: str, compressor: dict, n: int, d: int):
    from byzref.algorithms import ALGORITHMS
    from byzref.compressors import COMPRESSORS
    from problems.quadratic import Quadratic
    from theory.exact import ExactModel

    prob = Quadratic.from_arrays(np.eye(d), np.zeros((n, d)), sigma2=1.0, x0=np.ones(d))
    return ExactModel(prob, ALGORITHMS.build({"name": alg_name, "gamma": 0.1, "eta": 0.5}),
                      COMPRESSORS.build(dict(compressor)))


def stability_data(etas=None, compressors=None, n: int = 10, d: int = 10) -> dict:
    """Largest stable γL per method, compressor and η (exact; L = 1, every eigenvalue equal to L).

    Each value is the exact model's ``stability_limit`` (:mod:`theory.exact`; relative tolerance
    10⁻⁴) on a d-dimensional identity-Hessian quadratic with n workers.

    Parameters
    ----------
    etas : sequence of float, optional
        Momentum values η; default None: 13 values geometrically spaced from 0.01 to 1.
    compressors : list of dict, optional
        Compressor tables; default None: identity and ``rand_k_biased`` with k = 1.
    n : int, optional
        Number of workers (default 10).
    d : int, optional
        Dimension (default 10).

    Returns
    -------
    dict
        ``{"eta": [...], "curves": [{"label", "method", "compressor", "gamma_L": [...]}], "n", "d"}``;
        an unbounded region (stable for γL up to 10⁶) is reported as inf.
    """
    etas = [float(e) for e in (np.geomspace(0.01, 1.0, 13) if etas is None else etas)]
    compressors = compressors or [{"name": "identity"}, {"name": "rand_k_biased", "k": 1}]
    curves = []
    for comp in compressors:
        for label, name, eta2 in METHODS:
            model = _model(name, comp, n, d)
            vals = []
            for eta in etas:
                p = {"eta": eta} if eta2 is None else {"eta": eta, "eta2": eta2(eta)}
                vals.append(float(model.stability_limit(p, rel_tol=1e-4)))
            curves.append({"label": label, "method": name, "compressor": dict(comp), "gamma_L": vals})
    return {"eta": etas, "curves": curves, "n": n, "d": d}


def _comp_text(comp: dict, d: int) -> str:
    return "identity" if comp["name"] == "identity" else f"{comp['name']} (k/d = {comp['k']}/{d})"


def plot_stability(ax, data: dict):
    """Draw the largest stable γL against η on log-log axes; return ``ax``.

    One colour and marker per method, one line style per compressor, legend outside the axes on the
    right. Unbounded values are left out. Under the identity compressor Byz-VR-DM21 with η₂ = η has
    exactly Byz-EF21-SGDM's region (with additive noise the STORM estimator tracks ∇f(xᵗ) and u is then
    a single EMA), so its line is drawn thinner on top of Byz-EF21-SGDM's.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    data : dict
        As :func:`stability_data` returns it.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    labels = list(dict.fromkeys(c["label"] for c in data["curves"]))
    palette = ("tab:red", "tab:blue", "tab:purple", "tab:green", "tab:orange", "tab:brown")
    colors = {lab: palette[i % len(palette)] for i, lab in enumerate(labels)}
    marks = {lab: "osD^v<>"[i % 7] for i, lab in enumerate(labels)}
    comps = list(dict.fromkeys(_comp_text(c["compressor"], data["d"]) for c in data["curves"]))
    dashes = dict(zip(comps, ("-", "--", ":", "-."), strict=False))
    eta = np.asarray(data["eta"], dtype=float)
    for c in data["curves"]:
        ctext = _comp_text(c["compressor"], data["d"])
        g = np.asarray(c["gamma_L"], dtype=float)
        g = np.where(np.isfinite(g) & (g > 0), g, np.nan)
        thin = c["method"] == "byz_vr_dm21" and "η₂ = η)" in c["label"]
        ax.plot(eta, g, color=colors[c["label"]], linestyle=dashes.get(ctext, "-"), marker=marks[c["label"]],
                markersize=3 if thin else 5, linewidth=1.0 if thin else 2.0, zorder=3 if thin else 2,
                label=f"{c['label']}, {ctext}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("momentum η")
    ax.set_ylabel("largest stable step γL (mean-square)")
    ax.set_title(f"Stability regions on a quadratic (exact moments; n = {data['n']}, mean, f = 0):\n"
                 "stable for every γL below the curve", fontsize="small")
    ax.grid(True, which="both", alpha=0.3)
    if data["curves"]:
        ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax
