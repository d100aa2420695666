"""Verdicts: PASS / FAIL / INCONCLUSIVE / NOT OBSERVED with the numbers and the criterion that decided.

What each verdict means. FAIL only when a measured quantity contradicts what the claim states: a
stated exponent or range that the whole confidence interval misses, or a bound with explicit
constants that the measurement exceeds. A comparison of two methods' proven upper bounds (no explicit
constants, e.g. "a smaller neighborhood than ...", Li, Liu, Yi, arXiv:2603.15144) cannot FAIL: a
measured value that is not smaller violates no bound. When its ordering is not seen it is NOT
OBSERVED (never a PASS; the exit status treats it like PASS), see :func:`ordering_verdict`.

Every rule decides from a confidence interval, never from a point estimate alone:

* :func:`rate_verdict` — a rate claim predicts slope p of log avg_grad_sq vs log T. PASS when the CI
  lies inside [p − tol_fast, p + tol]; FAIL when the CI lies entirely above p + tol (slower than
  claimed); otherwise INCONCLUSIVE (the CI straddles a boundary, or the slope is much steeper than
  claimed, which means the grid still sits in the transient). The default tol = 1/12 is half the gap
  between the two exponents at stake (−1/2 for O(ε⁻⁴), −2/3 for O(ε⁻³)), so a PASS for −2/3 excludes
  −1/2 and vice versa; tol_fast = 1/4 admits the finite-T curvature seen in probes.
* :func:`range_verdict` — PASS when the CI lies inside an accepted range, FAIL when it misses the
  range entirely, INCONCLUSIVE when it overlaps a boundary.
* :func:`bound_verdict` — an explicit bound (PEPit style): PASS when empirical ≤ bound·(1 + rtol).
* :func:`combine` — a claim with several parts: FAIL if any part fails, PASS if all pass.
* :func:`ordering_state` / :func:`ordering_verdict` — the ordering "reference < other" of upper bounds,
  checked cell by cell from the CI of mean_s log(reference/other): seen when the CI lies below 0, not
  seen when it lies above 0, inconclusive when it contains 0. PASS iff seen in every cell; FAIL iff an
  explicit-constant bound "reference ≤ ρ·other" is stated and some CI lies entirely above log ρ;
  otherwise NOT OBSERVED when some cell is not seen, else INCONCLUSIVE.

See :ref:`math-claims` for the rules in mathematical form.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "NOT_OBSERVED",
    "NOT_SEEN",
    "PASS",
    "SEEN",
    "TOL",
    "TOL_FAST",
    "UNDECIDED",
    "Verdict",
    "bound_verdict",
    "combine",
    "ordering_state",
    "ordering_verdict",
    "range_verdict",
    "rate_verdict",
]

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
#: a comparison of proven upper bounds whose ordering the measurements do not show; never a FAIL (no bound is
#: violated) and never a PASS
NOT_OBSERVED = "NOT OBSERVED"
#: slower-side tolerance of a rate claim: half the gap between the exponents −1/2 and −2/3
TOL = 1.0 / 12.0
#: faster-side tolerance of a rate claim (finite-T curvature of the curves)
TOL_FAST = 0.25


@dataclass
class Verdict:
    """The decision on one claim (or one part of a claim), as plain data.

    Parameters
    ----------
    verdict : str
        PASS, FAIL, INCONCLUSIVE or NOT OBSERVED.
    criterion : str
        The rule that decided, in words.
    measured : dict, optional
        The measured numbers (default empty).
    predicted : object, optional
        What the claim predicts (a number, a dict or a text; default None).
    ci : tuple of float or None, optional
        The confidence interval the rule decided from (default None).
    reason : str, optional
        Why the rule gave this verdict (default empty).
    parts : list of Verdict, optional
        The verdicts of the parts of a combined verdict (default empty).
    """

    verdict: str
    criterion: str
    measured: dict[str, Any] = field(default_factory=dict)
    predicted: Any = None
    ci: tuple[float, float] | None = None
    reason: str = ""
    parts: list[Verdict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain JSON-ready data (the parts included, recursively).

        Returns
        -------
        dict
        """
        d = asdict(self)
        d["ci"] = None if self.ci is None else [float(v) for v in self.ci]
        d["parts"] = [p.as_dict() for p in self.parts]
        return d


def _fmt(v: float) -> str:
    return f"{v:+.3f}" if math.isfinite(v) else str(v)


def range_verdict(ci, lo: float, hi: float, what: str, measured: dict | None = None,
                  predicted: Any = None) -> Verdict:
    """PASS if ci ⊂ [lo, hi]; FAIL if ci ∩ [lo, hi] = ∅; else INCONCLUSIVE.

    Parameters
    ----------
    ci : tuple of float
        The confidence interval (lo, hi) of the measured quantity.
    lo, hi : float
        The accepted range (either may be infinite).
    what : str
        What is measured, for the criterion text.
    measured : dict or None, optional
        Numbers to keep in the verdict.
    predicted : object, optional
        What the claim predicts, kept in the verdict.

    Returns
    -------
    Verdict
    """
    a, b = float(ci[0]), float(ci[1])
    crit = f"{what}: PASS if its CI ⊂ [{_fmt(lo)}, {_fmt(hi)}], FAIL if the CI misses that range"
    if a >= lo and b <= hi:
        v, why = PASS, f"CI [{_fmt(a)}, {_fmt(b)}] inside"
    elif b < lo or a > hi:
        v, why = FAIL, f"CI [{_fmt(a)}, {_fmt(b)}] outside"
    else:
        v, why = INCONCLUSIVE, f"CI [{_fmt(a)}, {_fmt(b)}] overlaps a boundary"
    return Verdict(v, crit, dict(measured or {}), predicted, (a, b), why)


def rate_verdict(fit, predicted: float, tol: float = TOL, tol_fast: float = TOL_FAST) -> Verdict:
    """Decide a rate claim from a :class:`~theory.fitting.SlopeFit` (see the module docstring).

    With the slope's CI [a, b] and the predicted slope p: PASS when p − tol_fast ≤ a and b ≤ p + tol;
    FAIL when a > p + tol; otherwise INCONCLUSIVE.

    Parameters
    ----------
    fit : theory.fitting.SlopeFit
        The fitted slope of log avg_grad_sq against log T with its CI.
    predicted : float
        The predicted slope p (−1/2 for O(ε⁻⁴), −2/3 for O(ε⁻³)).
    tol : float, optional
        Slower-side tolerance (default ``TOL`` = 1/12).
    tol_fast : float, optional
        Faster-side tolerance (default ``TOL_FAST`` = 1/4).

    Returns
    -------
    Verdict
    """
    a, b = fit.ci
    crit = (f"slope CI ⊂ [{_fmt(predicted - tol_fast)}, {_fmt(predicted + tol)}] → PASS; "
            f"CI entirely above {_fmt(predicted + tol)} → FAIL; else INCONCLUSIVE")
    measured = {"slope": fit.slope, "eps_exponent": fit.eps_exponent, "theil_sen": fit.theil_sen,
                "theil_sen_ci": list(fit.theil_sen_ci)}
    if a >= predicted - tol_fast and b <= predicted + tol:
        v, why = PASS, "CI inside the accepted band"
    elif a > predicted + tol:
        v, why = FAIL, f"CI [{_fmt(a)}, {_fmt(b)}] entirely slower than predicted {_fmt(predicted)} + tol"
    elif b < predicted - tol_fast:
        v, why = INCONCLUSIVE, "much steeper than predicted: the horizons are still in the transient"
    else:
        v, why = INCONCLUSIVE, f"CI [{_fmt(a)}, {_fmt(b)}] straddles a boundary"
    return Verdict(v, crit, measured, {"slope": predicted, "eps_exponent": -2.0 / predicted}, (a, b), why)


def bound_verdict(empirical: float, bound: float, rtol: float = 0.0, what: str = "value") -> Verdict:
    """PASS when empirical ≤ bound·(1 + rtol), else FAIL (an upper-bound theorem with explicit constants).

    Parameters
    ----------
    empirical : float
        The measured value (a non-finite value FAILs).
    bound : float
        The bound with explicit constants.
    rtol : float, optional
        Relative slack (default 0).
    what : str, optional
        The measured quantity's name (default "value").

    Returns
    -------
    Verdict
    """
    crit = f"{what} ≤ bound·(1 + {rtol:g})"
    ok = math.isfinite(empirical) and empirical <= bound * (1.0 + rtol)
    return Verdict(PASS if ok else FAIL, crit, {what: empirical}, {"bound": bound, "rtol": rtol},
                   None, f"{empirical:.4g} {'≤' if ok else '>'} {bound * (1 + rtol):.4g}")


def combine(parts: list[Verdict], criterion: str = "all parts PASS → PASS; any part FAIL → FAIL") -> Verdict:
    """One verdict from several parts: FAIL if any fails, PASS if all pass, NOT OBSERVED if any part is
    NOT OBSERVED (and none fails), else INCONCLUSIVE.

    Parameters
    ----------
    parts : list of Verdict
        The parts' verdicts (kept as ``parts`` of the result).
    criterion : str, optional
        The combined criterion's text.

    Returns
    -------
    Verdict
    """
    vs = [p.verdict for p in parts]
    v = FAIL if FAIL in vs else (PASS if vs and all(x == PASS for x in vs) else
                                 NOT_OBSERVED if NOT_OBSERVED in vs else INCONCLUSIVE)
    return Verdict(v, criterion, {}, None, None, "; ".join(f"{p.reason}" for p in parts if p.reason), parts)


#: the state of one cell of an ordering "reference < other" (see :func:`ordering_state`)
SEEN, NOT_SEEN, UNDECIDED = "seen", "not seen", "inconclusive"


def ordering_state(ci) -> str:
    """The ordering "reference < other" in one cell, from the CI of mean_s log(reference/other).

    Parameters
    ----------
    ci : tuple of float or None
        The CI of the paired log-ratio; None when there is none.

    Returns
    -------
    str
        ``SEEN`` when the CI lies entirely below 0, ``NOT_SEEN`` when it lies entirely above 0,
        ``UNDECIDED`` when it contains 0, is None or is not finite (a run diverged at the tuned
        parameters).
    """
    if ci is None:
        return UNDECIDED
    a, b = float(ci[0]), float(ci[1])
    if not (math.isfinite(a) and math.isfinite(b)):
        return UNDECIDED
    if b < 0.0:
        return SEEN
    if a > 0.0:
        return NOT_SEEN
    return UNDECIDED


def ordering_verdict(cells: list[dict], *, max_ratio: float | None = None,
                     what: str = "log(reference/other)") -> Verdict:
    """Decide an ordering of upper bounds over cells (a comparison has no explicit constants).

    Parameters
    ----------
    cells : list of dict
        One dict per cell with "name" (which regime and which other method) and "ci" (the CI of
        mean_s log(reference/other), paired over seeds); optional "log_ratio" (the estimate).
    max_ratio : float or None, optional
        An explicit constant ρ > 0 when the claim also states the bound reference ≤ ρ·other;
        None (default) for a pure comparison of upper bounds (it can then never FAIL).
    what : str, optional
        The compared quantity, for the criterion text.

    Returns
    -------
    Verdict

    Notes
    -----
    Rule: FAIL iff ``max_ratio`` is given and some cell's CI lies entirely above log ρ (the stated bound
    is exceeded); else PASS iff the ordering is seen in every cell; else NOT OBSERVED iff some cell
    shows the ordering not seen; else INCONCLUSIVE (no cell contradicts it, some cells are
    inconclusive: more seeds could decide). ``measured`` lists the cells of each state.
    """
    states = {SEEN: [], NOT_SEEN: [], UNDECIDED: []}
    violated = []
    for c in cells:
        states[ordering_state(c.get("ci"))].append(c["name"])
        if max_ratio is not None and c.get("ci") is not None:
            lo = float(c["ci"][0])
            if math.isfinite(lo) and lo > math.log(max_ratio):
                violated.append(c["name"])
    crit = (f"{what} per cell: seen if its CI < 0, not seen if its CI > 0, else inconclusive; PASS iff seen "
            "in every cell; NOT OBSERVED if not seen in some cell (the ordering alone never FAILs: it "
            "compares upper bounds)")
    if max_ratio is not None:
        crit += (f"; FAIL iff the stated bound reference ≤ {max_ratio:g}·other is exceeded "
                 f"(CI > log {max_ratio:g})")
    n = len(cells)
    measured = {"seen": states[SEEN], "not_seen": states[NOT_SEEN], "inconclusive": states[UNDECIDED],
                "cells": n}
    if violated:
        v, why = FAIL, f"stated bound exceeded in {len(violated)} of {n} cell(s): {', '.join(violated)}"
        measured["bound_exceeded"] = violated
    elif n and len(states[SEEN]) == n:
        v, why = PASS, f"ordering seen in all {n} cells"
    elif states[NOT_SEEN]:
        v, why = NOT_OBSERVED, (f"ordering not seen in {len(states[NOT_SEEN])} of {n} cell(s): "
                                f"{', '.join(states[NOT_SEEN])}")
    else:
        v, why = INCONCLUSIVE, f"ordering inconclusive in {len(states[UNDECIDED])} of {n} cell(s)"
    if v not in (FAIL, PASS):
        seen = f": {', '.join(states[SEEN])}" if states[SEEN] else ""
        why += f"; seen in {len(states[SEEN])} of {n}{seen}; inconclusive in {len(states[UNDECIDED])} of {n}"
    return Verdict(v, crit, measured, {"max_ratio": max_ratio}, None, why)
