"""The verification report: summary table, report.md and report.json (one entry per claim).

report.md is written for a reader: a glossary of every term it uses, a summary table (numbers rounded
to 3–4 significant digits, informational claims shown as INFO), then one section per claim with its
statement, regime, criterion, the verdict with the numbers that decided it, and its figure.
report.json keeps every number at full precision and the machine-readable fields (``verdict``,
``as_required``, ``ok``); ``display`` is the verdict as report.md and the table show it.

Measured cells are lists of ``TERM[ (qualifier)] = VALUE`` items joined by "; ", where TERM is a key of
:data:`GLOSSARY` (tests check that every such term is defined). Each claim kind registers its summary
cells with ``@summary_of(kind)`` (:data:`SUMMARIES`) and, optionally, extra report.md lines with
``@section_of(kind)`` (:data:`SECTIONS`), so a new kind is added without editing the others.

NOT OBSERVED (an ordering of upper bounds that the measurements do not show) is as required: the
overall line of report.md and the table's last line name every such claim, and the exit status of
``byzref verify`` stays 0 for it. See :ref:`guide-own-claim` for registering a new kind's cells.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theory.claims.base import ClaimResult, Scale, _clean

__all__ = ["GLOSSARY", "SECTIONS", "SUMMARIES", "Report", "num", "pretty", "section_of", "summary_line",
           "summary_of"]

#: every term report.md uses, defined once (rendered at the top of report.md, in this order)
GLOSSARY: dict[str, str] = {
    "PASS / FAIL / INCONCLUSIVE": "the verdict of a claim's rule: PASS when the confidence interval of "
                                  "what it measures lies inside the accepted range, FAIL when a measured "
                                  "quantity contradicts what the claim states (its whole CI misses a "
                                  "stated exponent or range, or exceeds a bound with explicit constants), "
                                  "INCONCLUSIVE when the CI straddles a boundary",
    "NOT OBSERVED": "a comparison of proven upper bounds without explicit constants (\"a smaller "
                    "neighborhood than ...\") whose ordering the measurements do not show in some cell: "
                    "no bound is violated, so it is not a FAIL (exit status 0), and it is never a PASS; "
                    "the table's last line names every such claim. Rule: PASS iff the ordering is seen "
                    "in every cell, NOT OBSERVED iff it is not seen in at least one, else INCONCLUSIVE; "
                    "FAIL only when the claim also states an explicit constant that is exceeded",
    "seen / not seen / inconclusive": "the state of one cell of a comparison: the CI of mean over seeds "
                                      "of log(reference/other) lies below 0 (seen), above 0 (not seen), or "
                                      "contains 0 (inconclusive: neither; also when a run diverged at its "
                                      "tuned parameters)",
    "cell": "one regime of the neighborhood map (σ², ζ², δ, k/d, attack, aggregator; one factor changed "
            "from the base run) and one other method; each method is tuned on its own there",
    "INFO": "informational claim: measured and shown, never counted toward the overall result (its rule's "
            "outcome is kept in report.json as `verdict`); INFO (FAIL) would mean the rule failed",
    "negative control": "a deliberately broken variant that the verifier must FAIL; it is as required "
                        "when it does",
    "γ*L": "the largest step γ (times L) for which an exact moment map is mean-square stable (theory.exact); "
           "above it a method cannot settle at a minimiser with curvature L",
    "exact": "computed from the exact first and second moments (theory.exact) of a linear method on a "
             "quadratic: no seeds and no CI; exact rate claims read the slope over the last four horizons "
             "up to T = 2³⁰",
    "T": "horizon: the number of iterations of one run; every T is run with the claim's schedule for that T",
    "avg ‖∇f‖²": "(1/T) Σ_{t<T} ‖∇f(xᵗ)‖², the ε-stationarity metric (`avg_grad_sq`)",
    "slope": "least-squares slope of log(measured value) against log(x) through the geometric means over "
             "seeds; x = T unless named in parentheses, e.g. slope (ζ²) against ζ², slope (rate vs γ)",
    "CI": "95% confidence interval, written [lo, hi] after a number: bootstrap over seeds (stratified by x), "
          "widened for few seeds",
    "top": "the slope over the largest horizons only (the largest max(3, ⌈m/2⌉) of m); it must pass too, so "
           "a curve that flattens at large T cannot pass on its average slope",
    "ε-exponent": "p in O(ε^−p): the iterations needed for avg ‖∇f‖² ≤ ε implied by the slope, p = −2/slope "
                  "(slope −1/2 ↔ 4, −2/3 ↔ 3)",
    "Δslope": "slope of the faster method minus slope of the slower one, paired over seeds (same seeds, "
              "same noise)",
    "δ": "Byzantine fraction f/n (f Byzantine workers out of n)",
    "ζ²": "heterogeneity: the spread of the good workers' gradients around their mean",
    "σ²": "variance of the stochastic-gradient noise",
    "z": "strength of the ALIE attack: how many standard deviations the Byzantine rows are shifted",
    "γ": "step size",
    "η": "momentum parameter (η₂: the second momentum's)",
    "plateau": "mean of ‖∇f(xᵗ)‖² over the second half of a run with constant γ, η: the neighborhood the "
               "method stalls in",
    "c": "plateau/(δζ²), median over the ζ² scan: the constant of plateau ≈ c·δζ²",
    "c_sup": "the largest plateau over the attack-strength scan divided by δζ²: c taken over all attacks",
    "Δplateau": "exp(mean over seeds of log(plateau of the first method / plateau of the other)) − 1, in %; "
                "below 0 means the first method's plateau is smaller (Δavg: the same for avg ‖∇f‖²)",
    "tuned": "in the neighborhood map, each method's constant (γ, η) (p in place of η for Byz-VR-MARINA) "
             "chosen from its grid on separate tuning seeds: (i) the smallest plateau, (ii) the smallest "
             "avg ‖∇f‖² at the budget T; the ratios are measured on the report seeds at those points",
    "floor ratio": "avg ‖∇f‖² of Byz-EF21-SGD at the largest T with the largest σ² divided by that with the "
                   "smallest σ² (geometric mean over seeds); above 1 means its floor grows with σ²",
    "μ": "PL constant of the problem (L: its smoothness constant)",
    "ρ": "per-iteration contraction factor of f(xᵗ) − f*, fitted on the stretch above 10× its floor; "
         "rate = −log ρ",
    "rate/(γμ)": "the fitted rate −log ρ divided by γμ, mean over seeds; the claim is Θ(1)",
    "floor": "the level f(xᵗ) − f* settles at: median over the last quarter of a PL run",
    "κ": "(f, κ)-robustness constant of an aggregator: ‖Agg − x̄_G‖² ≤ κ·(1/|G|) Σ_{i∈G} ‖xᵢ − x̄_G‖², "
         "worst over the attack library; no rule beats f/(n − 2f) in the worst case",
    "c_emp": "(δ, c)-robustness constant witnessed: ‖Agg − x̄_G‖²/(δ·D²) with D² = max_{i,j∈G} ‖xᵢ − xⱼ‖²",
    "α": "contraction of a biased compressor: E‖C(x) − x‖² ≤ (1 − α)‖x‖² (empirical α = 1 − worst ratio)",
    "ω": "variance of an unbiased compressor: E‖C(x) − x‖² ≤ ω‖x‖² with E C(x) = x",
    "empirical": "for a bound claim, the measured metric (worst seed relative to its bound)",
    "bound": "for a bound claim, the explicit bound the measured metric must not exceed",
}

_KEYS = {"sigma2": "σ²", "zeta2": "ζ²", "gamma": "γ", "eta": "η", "eta2": "η₂", "mu": "μ", "alie_z": "ALIE z",
         "eps_exponent": "ε-exponent", "theil_sen": "Theil–Sen slope", "theil_sen_ci": "its CI",
         "slope_upper": "top", "ci_upper": "top CI", "difference": "Δslope", "log_ratio": "log ratio",
         "rate_over_gamma_mu": "rate/(γμ)", "c_sup_over_attacks": "c_sup", "slope_zeta2": "slope (ζ²)",
         "slope_delta": "slope (δ)", "slope_attack": "slope (z)", "dm21_slope": "slope (Byz-DM21)",
         "ef21_sgd_slope": "slope (Byz-EF21-SGD)", "ef21_sgd_floor_ratio": "floor ratio", "factor": "ρ",
         "gammas": "γ", "floor_slope": "slope (floor vs σ²)", "rate_slope": "slope (rate vs γ)",
         "worst_ratio_over_seeds": "worst empirical/bound over seeds", "zero_eigs": "zero eigenvalues",
         "kappa_empirical": "κ", "c_empirical": "c_emp", "kappa_declared": "declared κ",
         "lower_bound": "lower bound f/(n − 2f)", "worst_attack": "worst attack", "holds": "holds",
         "not_seen": "not seen"}
#: keys whose values are set parameters or declared constants (shortest form), not measurements
_PARAMS = {"gammas", "declared", "kappa_declared", "lower_bound", "sigma2s", "zs"}
_CONSTANTS = {"alpha": "α", "omega": "ω"}
_MINUS = "\u2212"


def num(v: Any, sig: int = 3, zeros: bool = True) -> str:
    """A number for reading: ``sig`` significant digits (trailing zeros kept unless ``zeros`` is False),
    U+2212 minus, ×10^n for very small or very large values; integers as they are.

    Parameters
    ----------
    v : object
        A number, a numeric string, a bool or None ("–").
    sig : int, optional
        Significant digits (default 3).
    zeros : bool, optional
        Keep trailing zeros (default True).

    Returns
    -------
    str
    """
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return v
    if isinstance(v, int):
        return str(v).replace("-", _MINUS)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else f"{_MINUS}∞"
    if v == 0:
        return "0"
    if (abs(v) < 1e-3 or abs(v) >= 1e5):
        m, e = f"{v:.{sig - 1}e}".split("e")
        if not zeros:
            m = m.rstrip("0").rstrip(".")
        return f"{m}×10^{int(e)}".replace("-", _MINUS)
    if abs(v) >= 10**sig:  # 1700, not 1.70e+03
        return f"{v:.0f}".replace("-", "\u2212")
    text = format(v, f"#.{sig}g" if zeros else f".{sig}g").rstrip(".")
    return text.replace("-", _MINUS)


def par(v: Any) -> str:
    """A set parameter or threshold, shortest form (≤ 4 significant digits): 0.75, 0.2, 0."""
    return num(v, 4, zeros=False)


def _ci(ci) -> str:
    if ci is None or len(ci) != 2:
        return ""
    try:
        lo, hi = float(ci[0]), float(ci[1])
    except (TypeError, ValueError):
        return ""
    return f" [{num(lo)}, {num(hi)}]" if math.isfinite(lo) and math.isfinite(hi) else ""


_NUMBER = re.compile(r"(?<![\w.])[+-]?(?:\d+\.\d+(?:e[+-]?\d+)?|inf)(?![\w.])")


def _tidy(text: str) -> str:
    """Numbers written by the verdict rules (+0.750, -inf, 0.0333333) rounded for reading (≤ 4 digits)."""
    return _NUMBER.sub(lambda m: par(float(m.group(0))), str(text))


def _names() -> dict[str, str]:
    from byzref.select import DISPLAY_NAMES

    return dict(DISPLAY_NAMES)


def _display(text: str) -> str:
    names = _names()
    pat = r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b"
    return re.sub(pat, lambda m: names[m.group(1)], str(text))


def pretty(v: Any) -> str:
    """A description value for reading: tables as ``name (k = v, ...)``, numbers rounded, method ids as
    the paper's names.

    Parameters
    ----------
    v : object
        A dict (a config table), a list, a number or a text.

    Returns
    -------
    str
    """
    if isinstance(v, dict):
        items = [f"{_KEYS.get(k, k)} = {pretty(x)}" for k, x in v.items() if k not in ("name", "record")]
        if "name" in v:
            name = _display(v["name"])
            return f"{name} ({', '.join(items)})" if items else name
        return ", ".join(items)
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return "{" + ", ".join(par(x) for x in v) + "}"
        return "; ".join(pretty(x) for x in v)
    if isinstance(v, float):
        return par(v)
    return _display(_tidy(str(v)))


def _regime(run: dict) -> str:
    out = []
    if "n" in run and "f" in run:
        out.append(f"n = {run['n']}, f = {run['f']} (δ = {par(run['f'] / run['n'])})")
    for k in ("problem", "compressor", "aggregator", "attack", "algorithm"):
        if k in run:
            out.append(f"{k} {pretty(run[k])}")
    out += [f"{_KEYS.get(k, k)} = {pretty(x)}" for k, x in run.items()
            if k not in ("n", "f", "problem", "compressor", "aggregator", "attack", "algorithm", "record")]
    return "; ".join(out)


# ------------------------------------------------------------------------------ summary cells


#: per claim kind, the summary cells: fn(result) -> (measured items, predicted text), or None when the
#: result lacks the data (then the reason is shown). A new kind registers with @summary_of("kind").
SUMMARIES: dict[str, Callable[[ClaimResult], tuple[list[str], str] | None]] = {}
#: per claim kind, extra report.md lines after the verdict (e.g. a table): fn(result) -> lines
SECTIONS: dict[str, Callable[[ClaimResult], list[str]]] = {}


def summary_of(kind: str):
    """Register the summary-cell function of a claim kind (see :data:`SUMMARIES`).

    Parameters
    ----------
    kind : str
        The claim kind.

    Returns
    -------
    callable
        A decorator for ``fn(result) -> (measured items, predicted text) or None``.
    """
    def deco(fn):
        SUMMARIES[kind] = fn
        return fn
    return deco


def section_of(kind: str):
    """Register the extra report.md lines of a claim kind (see :data:`SECTIONS`).

    Parameters
    ----------
    kind : str
        The claim kind.

    Returns
    -------
    callable
        A decorator for ``fn(result) -> list of lines``.
    """
    def deco(fn):
        SECTIONS[kind] = fn
        return fn
    return deco


def _items(r: ClaimResult) -> tuple[list[str], str]:
    """(measured items "TERM[ (qualifier)] = value", predicted text) for the summary table."""
    fn = SUMMARIES.get(r.kind)
    out = fn(r) if fn is not None else None
    return out if out is not None else ([f"no measurement: {_tidy(r.verdict.reason)}"], "")


@summary_of("rate")
def _rate_items(r):
    m, v = r.verdict.measured or {}, r.verdict
    if "slope" not in m:
        return None
    pred = v.predicted or {}
    return ([f"slope = {num(m['slope'])}{_ci(v.ci)}",
             f"top = {num(m.get('slope_upper'))}{_ci(m.get('ci_upper'))}",
             f"ε-exponent = {num(m['eps_exponent'])}"],
            f"slope {_frac(pred.get('slope'))} (ε-exponent {par(pred.get('eps_exponent'))})")


@summary_of("separation")
def _separation_items(r):
    m, v = r.verdict.measured or {}, r.verdict
    return ([f"Δslope = {num(m['difference'])}{_ci(v.ci)}"], "Δslope < 0") if "difference" in m else None


@summary_of("neighborhood")
def _neighborhood_items(r):
    m, v, d = r.verdict.measured or {}, r.verdict, r.data or {}
    if "c" not in m:
        return None
    cis = [p.ci for p in v.parts] + [None, None, None]
    scans = {s["name"]: s for s in d.get("scans", [])}
    bands = [_band(scans.get(k, {}).get("accepted")) for k in ("zeta", "delta", "attack")]
    return ([f"slope (ζ²) = {num(m['slope_zeta2'])}{_ci(cis[0])}",
             f"slope (δ) = {num(m['slope_delta'])}{_ci(cis[1])}",
             f"slope (z) = {num(m['slope_attack'])}{_ci(cis[2])}",
             f"c = {num(m['c'])}", f"c_sup = {num(m['c_sup_over_attacks'])}"],
            f"slope (ζ²) {bands[0] or 'in [0.75, 1.25]'}, slope (δ) {bands[1] or '> 0'}, "
            f"slope (z) {bands[2] or 'in [−1, 0.5]'}")


@summary_of("comparison")
def _comparison_items(r):
    m, d = r.verdict.measured or {}, r.data or {}
    if d.get("log_ratios"):
        ref = d.get("reference", "")
        out = [f"Δplateau ({ref} vs {x['label']}) = {_pct(x['log_ratio'])}"
               f"{_pct_ci(x.get('ci'))}" for x in d["log_ratios"]]
        return out, "Δplateau < 0 for each"
    if m:
        return [f"plateau ({k}) = {num(x)}" for k, x in m.items()], "first smallest"
    return None


@summary_of("neighborhood_map")
def _map_items(r):
    d = r.data or {}
    if not d.get("cells"):
        return None
    n = sum(d["counts"].values())
    out = [f"{k} = {d['counts'][k]} of {n}" for k in ("seen", "not seen", "inconclusive")]
    ratios = [c["log_ratio"] for cell in d["cells"] for c in cell["comparisons"]
              if c["criterion"] in d["decide_on"] and c.get("ci") is not None]
    if ratios:
        out.append(f"Δplateau (range over cells) = {_pct(min(ratios))} … {_pct(max(ratios))}")
    bound = f"; ratio ≤ {par(d['max_ratio'])} (stated bound)" if d.get("max_ratio") else ""
    return out, f"seen in every cell ({d.get('reference', '')} smaller){bound}"


@summary_of("batch_one")
def _batch_items(r):
    m, d = r.verdict.measured or {}, r.data or {}
    if "ef21_sgd_slope" not in m:
        return None
    fits = d.get("fits") or [{}, {}]
    ci_dm, ci_sgd = fits[0].get("ci"), (fits[1] if len(fits) > 1 else {}).get("ci")
    return ([f"slope (Byz-DM21) = {num(m['dm21_slope'])}{_ci(ci_dm)}",
             f"slope (Byz-EF21-SGD) = {num(m['ef21_sgd_slope'])}{_ci(ci_sgd)}",
             f"floor ratio = {num(m['ef21_sgd_floor_ratio'])}{_ci(d.get('floor_ratio_ci'))}"],
            f"slope (Byz-DM21) −1/2; slope (Byz-EF21-SGD) > {par(d.get('stall_above', -5 / 12))}; "
            "floor ratio > 1")


@summary_of("pl")
def _pl_items(r):
    m, v, d = r.verdict.measured or {}, r.verdict, r.data or {}
    if "factor" not in m:
        return None
    cis = [p.ci for p in v.parts] + [None, None, None]
    band, nb = d.get("slope_band", (0.75, 1.25)), d.get("rate_over_gamma_mu_band", (0.5, 8.0))
    return ([f"rate/(γμ) = {', '.join(num(x) for x in m['rate_over_gamma_mu'])} "
             f"(γ {', '.join(par(g) for g in m.get('gammas', []))})",
             f"slope (rate vs γ) = {num(m['rate_slope'])}{_ci(cis[0])}",
             f"slope (floor vs σ²) = {num(m['floor_slope'])}{_ci(cis[2])}"],
            f"rate/(γμ) in [{par(nb[0])}, {par(nb[1])}]; both slopes in [{par(band[0])}, {par(band[1])}]")


@summary_of("aggregator_kappa")
def _kappa_items(r):
    d = r.data or {}
    if not d.get("table"):
        return None
    rows = d["table"]
    declared = [f"{x['aggregator']} {pretty(x['kappa_declared'])}" for x in rows
                if x.get("kappa_declared") is not None]
    return ([f"κ ({x['aggregator']}) = {num(x['kappa_empirical'])}" for x in rows],
            f"κ ≤ declared κ ({', '.join(declared) or 'none declared'}); any rule κ ≥ "
            f"{num(rows[0]['lower_bound'])} in the worst case")


@summary_of("compressor_constants")
def _constants_items(r):
    d = r.data or {}
    if not d.get("table"):
        return None
    sym = {"alpha": "α", "omega": "ω"}
    return ([f"{sym.get(x['constant'], x['constant'])} ({x['compressor']}) = {num(x['empirical'])}"
             for x in d["table"]], "α ≥ declared α, ω ≤ declared ω (within Monte Carlo error)")


@summary_of("bound")
def _bound_items(r):
    m, d = r.verdict.measured or {}, r.data or {}
    if "empirical" not in d:
        return None
    metric = next((k for k in m if k != "worst_ratio_over_seeds"), "value")
    return [f"empirical ({metric}) = {num(d.get('empirical'), 4)}"], f"≤ bound = {num(d.get('bound'), 4)}"


def _map_tuned(t: dict | None) -> str:
    if not t:
        return "–"
    second = next((k for k in t if k not in ("gamma", "gamma_L")), "")
    sym = {"eta": "η"}.get(second, second)
    return f"γ = {par(t['gamma_L'])}/L, {sym} = {par(t[second])}"


@summary_of("exact_rate")
def _exact_rate_items(r):
    regimes = (r.data or {}).get("regimes") or []
    if not regimes:
        return None
    T = (r.data or {}).get("T") or [0]
    top = f"2^{int(math.log2(T[-1]))}" if T[-1] else "?"
    return ([f"slope (exact, T ≤ {top}) = {num(g['slope'])} ({g['regime'].split(' (')[0]})" for g in regimes],
            f"slope {_frac((r.data or {}).get('predicted'))}")


@summary_of("exact_plateau")
def _exact_plateau_items(r):
    cells = (r.data or {}).get("cells") or []
    if not cells:
        return None
    seen = sum(1 for c in cells if c["ratio"] < 1.0)
    ratios = [c["ratio"] for c in cells if math.isfinite(c["ratio"])]
    span = f"; ratios {num(min(ratios))}–{num(max(ratios))}" if ratios else ""
    return ([f"ordering seen in {seen} of {len(cells)} cells{span}"], "Byz-DM21 < Byz-EF21-SGDM")


@summary_of("exact_stability")
def _exact_stability_items(r):
    lim = ((r.data or {}).get("stall") or {}).get("limits_gamma_L") or {}
    if not lim:
        return None
    return ([f"γ*L (Byz-DM21) = {num(lim['byz_dm21'])}",
             f"γ*L (Byz-EF21-SGDM) = {num(lim['byz_ef21_sgdm'])}"], "informational; at η = 0.1, identity")


def _exact_section(r: ClaimResult) -> list[str]:
    """An exact claim's per-regime (or per-cell) lines, as theory.claims.exact.report_items writes them."""
    items = (r.data or {}).get("items") or []
    return ["", *[f"  - {_tidy(x)}" for x in items]] if items else []


for _kind in ("exact_rate", "exact_plateau", "exact_stability"):
    SECTIONS[_kind] = _exact_section


@section_of("neighborhood_map")
def _map_section(r: ClaimResult) -> list[str]:
    """The map's cells: per regime and other method, both tuning protocols' Δ with CI and state."""
    d = r.data or {}
    if not d.get("cells"):
        return []
    ref = d.get("reference", "")
    md = ["", f"Cells (T = {d.get('T')}; tuned on seeds {', '.join(map(str, d.get('tune_seeds', [])))}, "
              f"measured on seeds {', '.join(map(str, d.get('report_seeds', [])))}; the verdict is decided "
              f"on {', '.join(d.get('decide_on', []))}, the other protocol is shown for practitioners):", "",
          f"  | cell | vs | Δplateau (i) | state (i) | Δavg (ii) | state (ii) | tuned (i): {ref} / other "
          "| note |", "  |" + "---|" * 8]
    for cell in d["cells"]:
        by = {(c["vs"], c["criterion"]): c for c in cell["comparisons"]}
        for other in d.get("others", []):
            p, a = by.get((other, "plateau"), {}), by.get((other, "avg_grad_sq"), {})

            def show(c):
                return (f"{_pct(c['log_ratio'])}{_pct_ci(c['ci'])}" if c.get("ci") else "–")
            tp = cell["tuned"]["plateau"]
            note = "; ".join(x for x in dict.fromkeys((p.get("note", ""), a.get("note", ""))) if x)
            md.append(f"  | {cell['name']} | {other} | {show(p)} | {p.get('state', '–')} | {show(a)} | "
                      f"{a.get('state', '–')} | {_map_tuned(tp.get(ref))} / {_map_tuned(tp.get(other))} | "
                      f"{note or ''} |")
    return md


def _frac(p) -> str:
    from fractions import Fraction

    if p is None:
        return "–"
    f = Fraction(float(p)).limit_denominator(12)
    if abs(float(f) - float(p)) > 1e-9:
        return num(p)
    return (str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}").replace("-", _MINUS)


def _band(band) -> str:
    if not band:
        return ""
    lo, hi = float(band[0]), float(band[1])
    if math.isinf(hi):
        return f"> {par(lo)}"
    if math.isinf(lo):
        return f"< {par(hi)}"
    return f"in [{par(lo)}, {par(hi)}]"


def _pct(log_ratio) -> str:
    x = 100.0 * (math.exp(float(log_ratio)) - 1.0)
    return ("+" if x > 0 else "") + num(x) + "%"


def _pct_ci(ci) -> str:
    if not ci:
        return ""
    return f" [{_pct(ci[0])}, {_pct(ci[1])}]"


def summary_line(r: ClaimResult) -> tuple[str, str]:
    """(measured, predicted) short strings for the summary table (numbers rounded for reading).

    Parameters
    ----------
    r : theory.claims.base.ClaimResult
        A decided claim.

    Returns
    -------
    tuple of str
    """
    items, pred = _items(r)
    return "; ".join(items), pred


def _note(r: ClaimResult) -> str:
    if r.negative_control:
        return "negative control: " + ("FAILs as required" if r.ok else "DID NOT FAIL")
    if r.informational:
        return "informational: not counted"
    return ""


# ------------------------------------------------------------------------------ claim sections


def _measured_items(measured: dict, skip=(), term: str = "") -> list[str]:
    """"name = value" items of a measured dict (``term``: every key is a qualifier of that term)."""
    out = []
    for k, x in measured.items():
        if k in skip or k == "table":
            continue
        name = f"{term} ({k})" if term else _KEYS.get(k, k)
        fmt = par if k in _PARAMS else num
        if isinstance(x, (list, tuple)) and not x:
            out.append(f"{name} = none")
        elif isinstance(x, (list, tuple)) and len(x) == 2 and "ci" in k.split("_"):
            out.append(f"{name}{_ci(x)}")
        elif isinstance(x, (list, tuple)):
            out.append(f"{name} = {', '.join(fmt(y) if isinstance(y, float) else pretty(y) for y in x)}")
        elif isinstance(x, float):
            out.append(f"{name} = {fmt(x)}")
        else:
            out.append(f"{name} = {pretty(x)}")
    return out


def _outcome(reason: str) -> str:
    """A rule's reason without the CI it repeats ("CI [+0.93, +1.06] inside" → "CI inside"), each
    distinct phrase once."""
    text = _tidy(re.sub(r"CI \[[^\]]*\]\s*", "CI ", reason or "")).strip()
    return "; ".join(dict.fromkeys(x.strip() for x in text.split(";") if x.strip()))


def _part_line(p) -> str:
    meas = _measured_items(p.measured)
    ci = f"CI{_ci(p.ci)}" if p.ci is not None and _ci(p.ci) else ""
    numbers = "; ".join(x for x in [", ".join(meas[:1]) + (f", {ci}" if ci and meas else ci), *meas[1:]] if x)
    return (f"  - {p.verdict}: {_tidy(p.criterion)}. Measured: {numbers or '–'} → {_outcome(p.reason)}")


def _same(a, b) -> bool:
    try:
        return json.dumps(_clean(a), sort_keys=True) == json.dumps(_clean(b), sort_keys=True)
    except TypeError:
        return False


def _cell(k: str, x: Any) -> str:
    import ast

    if x is None:
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if k in _PARAMS:
        return par(x)
    if isinstance(x, float):
        return num(x)
    if isinstance(x, str) and x.startswith("{"):
        try:
            return pretty(ast.literal_eval(x))
        except (ValueError, SyntaxError):
            return x
    return _CONSTANTS.get(x, pretty(x)) if isinstance(x, str) else pretty(x)


def _table_md(rows: list[dict]) -> list[str]:
    keys = list(rows[0])
    out = ["  | " + " | ".join(_KEYS.get(k, k) for k in keys) + " |", "  |" + "---|" * len(keys)]
    out += ["  | " + " | ".join(_cell(k, x) for k, x in row.items()) + " |" for row in rows]
    return out


def _section(r: ClaimResult, figure: str | None) -> list[str]:
    v = r.verdict
    md = ["", f"### `{r.id}` — {r.display}", "", f"*{r.title}*", ""]
    if r.statement:
        md.append(f"- **statement**: {_display(r.statement)}")
    md.append(f"- **source**: {r.source}")
    desc = dict(r.description)
    if isinstance(desc.get("regime"), dict) and {"n", "f"} <= set(desc["regime"]):
        md.append(f"- **regime**: {_regime(desc.pop('regime'))}")
    for k, x in desc.items():
        md.append(f"- **{k}**: " + (f"`{x}`" if k in ("faster", "slower") else pretty(x)))
    md.append(f"- **criterion**: {_tidy(v.criterion)}")
    if r.informational:
        head = f"- **verdict: {r.display}** (informational; its rule gives {v.verdict}, not counted)"
    elif r.negative_control:
        head = (f"- **verdict: {v.verdict}** (negative control: "
                f"{'FAILs as required' if r.ok else 'DID NOT FAIL'})")
    else:
        head = f"- **verdict: {v.verdict}**"
    if v.parts:
        md.append(head + ", decided by:")
        md += [_part_line(p) for p in v.parts]
        shown = [x for p in v.parts for x in (*p.measured.values(), p.ci)]
        extra = {k: x for k, x in (v.measured or {}).items() if not any(_same(x, y) for y in shown)}
        rest = _measured_items(extra, term="plateau" if r.kind == "comparison" else "")
        if rest:
            md.append(f"- **also measured**: {'; '.join(rest)}")
    elif r.kind in SECTIONS:  # the kind's own lines below show the numbers
        md.append(head + f" → {_outcome(v.reason)}")
    else:
        meas = _measured_items(v.measured or {})
        ci = f"CI{_ci(v.ci)}" if _ci(v.ci) else ""
        numbers = "; ".join(x for x in (", ".join(meas), ci) if x)
        md.append(head + (f": {numbers}" if numbers else "") + f" → {_outcome(v.reason)}")
    table = (v.measured or {}).get("table") or (r.data or {}).get("table")
    if table:
        md += ["", *_table_md(table)]
    if r.kind in SECTIONS:
        md += SECTIONS[r.kind](r)
    if figure:
        md += ["", f"![{r.id}]({figure})"]
    return md


@dataclass
class Report:
    """All decided claims of one verification run, as plain data.

    Returned by :func:`theory.verify.verify`; ``report[claim_id]`` gives one
    :class:`~theory.claims.base.ClaimResult`.

    Parameters
    ----------
    scale : theory.claims.base.Scale
        The scale of the runs.
    results : list of theory.claims.base.ClaimResult
        One per claim, in report order.
    wall_time : float
        Seconds the verification took.
    n_runs : int
        Distinct engine runs.
    versions : dict, optional
        Versions of byzref and its dependencies.
    figures : list of str, optional
        Paths of the written figures (set by :meth:`write`).
    figure_note : str, optional
        Why figures were skipped, if they were.
    """

    scale: Scale
    results: list[ClaimResult]
    wall_time: float
    n_runs: int
    versions: dict[str, str] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    figure_note: str = ""

    @property
    def ok(self) -> bool:
        """Every ordinary claim did not FAIL and every negative control FAILed."""
        return all(r.ok for r in self.results)

    @property
    def not_observed(self) -> list[str]:
        """Ids of the counted claims (not informational, not negative controls) whose verdict is NOT OBSERVED
        (an ordering of upper bounds not seen)."""
        from theory.verdicts import NOT_OBSERVED

        return [r.id for r in self.results if r.verdict.verdict == NOT_OBSERVED and not r.informational
                and not r.negative_control]

    def __getitem__(self, claim_id: str) -> ClaimResult:
        for r in self.results:
            if r.id == claim_id:
                return r
        raise KeyError(claim_id)

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(claim id, shown verdict, measured, predicted, note) per claim.

        Returns
        -------
        list of tuple of str
        """
        return [(r.id, r.display, *summary_line(r), _note(r)) for r in self.results]

    def table(self) -> str:
        """The summary table as plain text (one row per claim, then the overall status).

        Returns
        -------
        str
        """
        rows = [("claim", "verdict", "measured", "predicted", "note"), *self.rows()]
        w = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * x for x in w))
        status = "all claims as required" if self.ok else "SOME CLAIMS FAILED"
        nob = self.not_observed
        if nob:
            status += f"; NOT OBSERVED (not a failure): {', '.join(nob)}"
        lines.append(f"\n{len(self.results)} claims, {self.n_runs} runs, scale {self.scale.name}, "
                     f"{self.wall_time:.1f} s: {status}")
        lines.append("INFO = informational (not counted); terms are defined at the top of report.md")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """Plain JSON-ready data (non-finite floats as strings, like byzref's run records).

        Returns
        -------
        dict
            What report.json holds.
        """
        sc = self.scale
        return _clean({"scale": {"name": sc.name, "Ts": list(sc.Ts), "seeds": list(sc.seeds),
                                 "T_plateau": sc.T_plateau},
                "ok": self.ok, "wall_time_s": self.wall_time, "n_runs": self.n_runs,
                "versions": self.versions,
                "figures": self.figures, "claims": [r.as_dict() for r in self.results]})

    def _figure_of(self, claim_id: str) -> str | None:
        from theory.figures import figure_name

        name = figure_name(claim_id)
        return name if any(Path(p).name == name for p in self.figures) else None

    def markdown(self) -> str:
        """report.md: overall status, glossary, summary table and one section per claim.

        Returns
        -------
        str
        """
        sc = self.scale
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.display] = counts.get(r.display, 0) + 1
        bad = [r.id for r in self.results if not r.ok]
        overall = "**as required**" if self.ok else f"**NOT as required**: {', '.join(f'`{b}`' for b in bad)}"
        if self.not_observed:
            overall += (" (NOT OBSERVED, not a failure: "
                        f"{', '.join(f'`{b}`' for b in self.not_observed)})")
        Ts = ", ".join(map(str, sc.Ts))
        md = ["# byzref verification report", "",
              f"Overall: {overall} — {len(self.results)} claims: "
              f"{', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}.", "",
              f"Scale `{sc.name}`: horizons T = {Ts}; {len(sc.seeds)} seeds; plateau runs "
              f"T = {sc.T_plateau}; "
              f"{self.n_runs} runs in {self.wall_time:.1f} s.", "",
              "## Glossary", ""]
        md += [f"- **{k}**: {x}" for k, x in GLOSSARY.items()]
        md += ["", "## Summary", "", "| claim | verdict | measured | predicted | note |",
               "|---|---|---|---|---|"]
        md += [f"| `{a}` | **{b}** | {c} | {d} | {e} |" for a, b, c, d, e in self.rows()]
        if self.figure_note:
            md += ["", self.figure_note]
        md += ["", "## Claims"]
        for r in self.results:
            md += _section(r, self._figure_of(r.id))
        return "\n".join(md) + "\n"

    def write(self, out: str | Path, figures: bool = True, workers: int = 1) -> Path:
        """Write report.json, report.md and (``figures``) one PNG per claim into ``out``.

        Parameters
        ----------
        out : str or pathlib.Path
            The directory (created if needed).
        figures : bool, optional
            Also write the figures (default True; needs matplotlib).
        workers : int, optional
            Processes that draw the figures (default 1; see :func:`theory.figures.make_figures`).

        Returns
        -------
        pathlib.Path
            ``out``.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if figures:
            from theory.figures import make_figures

            paths, self.figure_note = make_figures(self, out, workers=workers)
            self.figures = paths
        (out / "report.json").write_text(json.dumps(self.as_dict(), indent=2, default=str,
                                                    ensure_ascii=False, allow_nan=False))
        (out / "report.md").write_text(self.markdown())
        return out
