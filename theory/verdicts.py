"""Verdicts: PASS / FAIL / INCONCLUSIVE with the numbers and the criterion that decided (SPEC §6).

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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "FAIL",
    "INCONCLUSIVE",
    "NOT_OBSERVED",
    "PASS",
    "TOL",
    "TOL_FAST",
    "Verdict",
    "bound_verdict",
    "combine",
    "range_verdict",
    "rate_verdict",
]

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
#: a comparison of proven upper bounds whose ordering the measurements do not show; never a FAIL (no bound is
#: violated) and never a PASS
NOT_OBSERVED = "NOT OBSERVED"
TOL = 1.0 / 12.0
TOL_FAST = 0.25


@dataclass
class Verdict:
    """The decision on one claim (or one part of a claim), as plain data."""

    verdict: str
    criterion: str
    measured: dict[str, Any] = field(default_factory=dict)
    predicted: Any = None
    ci: tuple[float, float] | None = None
    reason: str = ""
    parts: list[Verdict] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["ci"] = None if self.ci is None else [float(v) for v in self.ci]
        d["parts"] = [p.as_dict() for p in self.parts]
        return d


def _fmt(v: float) -> str:
    return f"{v:+.3f}" if math.isfinite(v) else str(v)


def range_verdict(ci, lo: float, hi: float, what: str, measured: dict | None = None,
                  predicted: Any = None) -> Verdict:
    """PASS if ci ⊂ [lo, hi]; FAIL if ci ∩ [lo, hi] = ∅; else INCONCLUSIVE."""
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
    """Decide a rate claim from a :class:`~theory.fitting.SlopeFit` (see the module docstring)."""
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
    """PASS when empirical ≤ bound·(1 + rtol), else FAIL (an upper-bound theorem with explicit constants)."""
    crit = f"{what} ≤ bound·(1 + {rtol:g})"
    ok = math.isfinite(empirical) and empirical <= bound * (1.0 + rtol)
    return Verdict(PASS if ok else FAIL, crit, {what: empirical}, {"bound": bound, "rtol": rtol},
                   None, f"{empirical:.4g} {'≤' if ok else '>'} {bound * (1 + rtol):.4g}")


def combine(parts: list[Verdict], criterion: str = "all parts PASS → PASS; any part FAIL → FAIL") -> Verdict:
    """One verdict from several parts: FAIL if any fails, PASS if all pass, else INCONCLUSIVE."""
    vs = [p.verdict for p in parts]
    v = FAIL if FAIL in vs else (PASS if vs and all(x == PASS for x in vs) else INCONCLUSIVE)
    return Verdict(v, criterion, {}, None, None, "; ".join(f"{p.reason}" for p in parts if p.reason), parts)
