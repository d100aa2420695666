"""Checkers for compressors, usable on your own ``Compressor`` subclasses.

* :func:`check_contract`: interface facts (shape, dtype, no aliasing or mutation, determinism
  for a fixed seed, C(0) = 0, finite output, positive bits, declared classes consistent).
* :func:`check_contractive`: E‖C(x) − x‖² ≤ (1 − α)‖x‖².
* :func:`check_unbiased`: E C(x) = x and E‖C(x) − x‖² ≤ ω‖x‖².
* :func:`exact_moments`, :func:`exact_moments_over_subsets`: exact E C(x) and E‖C(x) − x‖² for a
  finite outcome distribution (e.g. every k-subset of a random sparsifier).

Deterministic compressors are checked exactly (up to a rounding allowance ``rtol``·‖x‖²).
Random ones are checked by Monte Carlo on ``n_samples`` independent compressions per row, with
tolerances derived from the sample (see each function). A failed check raises AssertionError
with the numbers; a passed one returns a :class:`CheckResult`. The classes are defined on the
page :ref:`math-compressors`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from byzref.compressors.base import CONTRACTIVE, UNBIASED, Compressor, as_rows

__all__ = [
    "CheckResult",
    "check_contract",
    "check_contractive",
    "check_unbiased",
    "exact_moments",
    "exact_moments_over_subsets",
]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check, for the row with the smallest margin (bound + tolerance − observed).

    ``str(result)`` gives a one-line summary.

    Parameters
    ----------
    check : str
        Name of the check (``"contractive"`` or ``"unbiased"``).
    compressor : str
        Name of the compressor checked.
    exact : bool
        True when no Monte Carlo was involved (deterministic compressors).
    observed : float
        The observed E‖C(x) − x‖² (a sample mean for random compressors).
    bound : float
        The bound it is compared with, (1 − α)‖x‖² or ω‖x‖².
    tolerance : float
        The allowance added to the bound (sampling error and rounding).
    n_samples : int
        Compressions per row (1 for deterministic compressors).
    details : str, default ""
        The constant, the row and ‖x‖², as text.
    """

    check: str
    compressor: str
    exact: bool  # True: no Monte Carlo involved
    observed: float
    bound: float
    tolerance: float
    n_samples: int
    details: str = ""

    def __str__(self) -> str:
        how = "exact" if self.exact else f"Monte Carlo, n = {self.n_samples}"
        return (f"{self.check}({self.compressor}): {self.observed:.6g} ≤ {self.bound:.6g} "
                f"+ {self.tolerance:.3g} ({how}){' ' + self.details if self.details else ''}")


def _rng(rng):
    return np.random.default_rng(12345) if rng is None else rng


def _samples(comp: Compressor, rows: np.ndarray, n: int, rng) -> np.ndarray:
    """(m, n, d) array: n independent compressions of each row (one batched call)."""
    m, d = rows.shape
    n = 1 if comp.deterministic else n
    out = comp(np.repeat(rows, n, axis=0), None if comp.deterministic else _rng(rng))
    return out.reshape(m, n, d)


def _fail(res: CheckResult, what: str) -> None:
    raise AssertionError(f"{what} failed: {res}")


def check_contractive(comp: Compressor, x, alpha: float | None = None, *, rng=None,
                      n_samples: int = 2000, z: float = 6.0, rtol: float = 1e-9) -> CheckResult:
    """Check E‖C(x) − x‖² ≤ (1 − α)‖x‖² for every row of x (α defaults to ``comp.alpha(d)``).

    Random compressors: the sample mean of e = ‖C(x) − x‖² over ``n_samples`` draws may exceed
    the bound by z standard errors (sample standard deviation / √n), plus ``rtol``·‖x‖².

    Parameters
    ----------
    comp : byzref.compressors.base.Compressor
        The compressor under test.
    x : array_like
        A d-vector or an (m, d) array; every row is checked.
    alpha : float or None, default None
        The constant to check; None: ``comp.alpha(d)``.
    rng : numpy.random.Generator or None, default None
        Source of the compressions; None: a generator seeded with 12345.
    n_samples : int, default 2000
        Compressions per row (1 for deterministic compressors).
    z : float, default 6.0
        Allowed standard errors.
    rtol : float, default 1e-9
        Rounding allowance, times ‖x‖².

    Returns
    -------
    CheckResult
        The result for the row with the smallest margin.

    Raises
    ------
    AssertionError
        When the bound fails.
    ValueError
        When no α is given and the compressor declares none.
    """
    rows = as_rows(x)
    d = rows.shape[1]
    alpha = comp.alpha(d) if alpha is None else float(alpha)
    if alpha is None:
        raise ValueError(f"{comp.name} declares no α; pass alpha explicitly")
    err = ((_samples(comp, rows, n_samples, rng) - rows[:, None, :]) ** 2).sum(axis=2)
    n = err.shape[1]
    sq = (rows**2).sum(axis=1)
    obs = err.mean(axis=1)
    se = err.std(axis=1, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(obs)
    bound = (1.0 - alpha) * sq
    tol = z * se + rtol * sq
    i = int(np.argmin(bound + tol - obs))
    res = CheckResult("contractive", comp.name, comp.deterministic, float(obs[i]), float(bound[i]),
                      float(tol[i]), n, f"α = {alpha:.6g}, row {i}, ‖x‖² = {sq[i]:.6g}")
    if obs[i] > bound[i] + tol[i]:
        _fail(res, "E‖C(x) − x‖² ≤ (1 − α)‖x‖²")
    return res


def check_unbiased(comp: Compressor, x, omega: float | None = None, *, rng=None,
                   n_samples: int = 2000, z: float = 6.0, false_alarm: float = 1e-6,
                   rtol: float = 1e-9) -> CheckResult:
    """Check E C(x) = x and E‖C(x) − x‖² ≤ ω‖x‖² for every row of x (ω defaults to ``comp.omega(d)``).

    Bias (random compressors): with x̄ the sample mean, require
    ‖x̄ − x‖² ≤ (1 + 2√t + 2t) V + (rtol‖x‖)², t = ln(1/false_alarm), where V bounds the total
    variance E‖x̄ − x‖² = E‖C(x) − x‖²/n: V = max(V̂, ω‖x‖²/n) with V̂ = Σ_j var̂_j / n. The second
    term is a bound under the hypothesis C ∈ 𝕌(ω) and protects against rare outcomes that a
    finite sample misses (V̂ = 0). This is the Laurent–Massart χ² tail bound for the Gaussian
    limit of x̄ − x, so it needs no per-coordinate correction for d. Variance: as in
    :func:`check_contractive` with ω‖x‖². Deterministic compressors must return x (up to rtol‖x‖).

    Parameters
    ----------
    comp : byzref.compressors.base.Compressor
        The compressor under test.
    x : array_like
        A d-vector or an (m, d) array; every row is checked.
    omega : float or None, default None
        The constant to check; None: ``comp.omega(d)``.
    rng : numpy.random.Generator or None, default None
        Source of the compressions; None: a generator seeded with 12345.
    n_samples : int, default 2000
        Compressions per row (1 for deterministic compressors).
    z : float, default 6.0
        Allowed standard errors for the variance bound.
    false_alarm : float, default 1e-6
        Probability that the bias test fails for an unbiased compressor (sets t).
    rtol : float, default 1e-9
        Rounding allowance, relative to ‖x‖ (bias) and ‖x‖² (variance).

    Returns
    -------
    CheckResult
        The variance result for the row with the smallest margin.

    Raises
    ------
    AssertionError
        When the bias test or the variance bound fails.
    ValueError
        When no ω is given and the compressor declares none.
    """
    rows = as_rows(x)
    d = rows.shape[1]
    omega = comp.omega(d) if omega is None else float(omega)
    if omega is None:
        raise ValueError(f"{comp.name} declares no ω; pass omega explicitly")
    S = _samples(comp, rows, n_samples, rng)
    n = S.shape[1]
    sq = (rows**2).sum(axis=1)
    bias_sq = ((S.mean(axis=1) - rows) ** 2).sum(axis=1)
    t = math.log(1.0 / false_alarm)
    v_hat = S.var(axis=1, ddof=1).sum(axis=1) / n if n > 1 else np.zeros_like(sq)
    if n > 1:
        v_hat = np.maximum(v_hat, omega * sq / n)
    bias_tol = (1.0 + 2.0 * math.sqrt(t) + 2.0 * t) * v_hat + rtol**2 * sq
    i = int(np.argmax(bias_sq - bias_tol))
    if bias_sq[i] > bias_tol[i]:
        _fail(CheckResult("unbiased", comp.name, comp.deterministic, float(bias_sq[i]), 0.0,
                          float(bias_tol[i]), n, f"‖mean C(x) − x‖² in row {i}, ‖x‖² = {sq[i]:.6g}"),
              "E C(x) = x")
    err = ((S - rows[:, None, :]) ** 2).sum(axis=2)
    obs = err.mean(axis=1)
    se = err.std(axis=1, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(obs)
    bound = omega * sq
    tol = z * se + rtol * sq
    j = int(np.argmin(bound + tol - obs))
    res = CheckResult("unbiased", comp.name, comp.deterministic, float(obs[j]), float(bound[j]),
                      float(tol[j]), n, f"ω = {omega:.6g}, row {j}; max bias² {bias_sq.max():.3g}")
    if obs[j] > bound[j] + tol[j]:
        _fail(res, "E‖C(x) − x‖² ≤ ω‖x‖²")
    return res


def exact_moments(outcomes, probs, x) -> tuple[np.ndarray, float]:
    """(E C(x), E‖C(x) − x‖²) for a finite distribution: C(x) = outcomes[i] w.p. probs[i].

    Parameters
    ----------
    outcomes : array_like
        The (K, d) possible values of C(x).
    probs : array_like
        Their K probabilities: non-negative, summing to 1 (to 1e-12).
    x : array_like
        The input d-vector.

    Returns
    -------
    mean : numpy.ndarray
        E C(x), a d-vector.
    mse : float
        E‖C(x) − x‖².

    Raises
    ------
    ValueError
        When the probabilities are negative or do not sum to 1.
    """
    outcomes = np.asarray(outcomes, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    if not np.isclose(probs.sum(), 1.0, rtol=0, atol=1e-12) or (probs < 0).any():
        raise ValueError(f"probabilities must be ≥ 0 and sum to 1, got sum {probs.sum()!r}")
    x = np.asarray(x, dtype=np.float64)
    mean = probs @ outcomes
    mse = float(probs @ ((outcomes - x) ** 2).sum(axis=1))
    return mean, mse


def exact_moments_over_subsets(x, k: int, scale: float = 1.0) -> tuple[np.ndarray, float]:
    """Exact moments of C(x) = scale·x on a uniformly random k-subset (all C(d, k) enumerated).

    scale = d/k is unbiased rand-k, scale = 1 the biased one. Meant for small d.

    Parameters
    ----------
    x : array_like
        The input d-vector.
    k : int
        Subset size, 1 ≤ k ≤ d.
    scale : float, default 1.0
        Factor on the kept entries.

    Returns
    -------
    mean : numpy.ndarray
        E C(x), a d-vector.
    mse : float
        E‖C(x) − x‖².
    """
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[0]
    outs = []
    for subset in itertools.combinations(range(d), k):
        y = np.zeros(d)
        y[list(subset)] = scale * x[list(subset)]
        outs.append(y)
    return exact_moments(outs, np.full(len(outs), 1.0 / len(outs)), x)


@dataclass(frozen=True)
class ContractResult:
    """Names of the interface facts :func:`check_contract` verified."""

    compressor: str
    d: int
    checks: tuple[str, ...]


def check_contract(comp: Compressor, d: int, *, m: int = 3, seed: int = 0) -> ContractResult:
    """Check the interface contract of a compressor on random (m, d) input; raise AssertionError.

    The facts: declared classes and constants consistent (α ∈ (0, 1] when contractive, ω ∈ [0, ∞)
    when unbiased, None otherwise), bits > 0, input not mutated, float64 output of the input's
    shape that does not alias it, finite output, the same output for the same seed and for a
    Fortran-ordered copy, 1-D input gives 1-D output, C(0) = 0, and (deterministic compressors)
    rows compressed independently.

    Parameters
    ----------
    comp : byzref.compressors.base.Compressor
        The compressor under test.
    d : int
        Dimension of the test input.
    m : int, default 3
        Number of rows of the test input.
    seed : int, default 0
        Seed of the input and of the compressions.

    Returns
    -------
    ContractResult
        The compressor's name, d, and the names of the facts verified (a small record of this
        module, not exported).

    Raises
    ------
    AssertionError
        At the first fact that fails.
    """
    name, done = comp.name, []
    rng = np.random.default_rng(seed)

    def ok(cond, fact, msg=""):
        if not cond:
            raise AssertionError(f"{name} (d = {d}): {fact} violated {msg}")
        done.append(fact)

    ok(len(comp.classes) > 0 and set(comp.classes) <= {CONTRACTIVE, UNBIASED}, "classes declared",
       f"{comp.classes!r}")
    a, w, b = comp.alpha(d), comp.omega(d), comp.bits(d)
    if comp.is_contractive():
        ok(a is not None and 0.0 < a <= 1.0, "alpha in (0, 1] when contractive", f"alpha = {a!r}")
    else:
        ok(a is None, "alpha is None when not contractive", f"alpha = {a!r}")
    if comp.is_unbiased():
        ok(w is not None and 0.0 <= w < math.inf, "omega in [0, inf) when unbiased", f"omega = {w!r}")
    else:
        ok(w is None, "omega is None when not unbiased", f"omega = {w!r}")
    ok(math.isfinite(b) and b > 0, "bits > 0", f"bits = {b!r}")
    X = rng.standard_normal((m, d)) * rng.uniform(0.1, 10.0, (m, 1))
    X0 = X.copy()

    def call(A, s=seed + 1):
        return comp(A, None if comp.deterministic else np.random.default_rng(s))

    Y = call(X)
    ok(np.array_equal(X, X0), "input not mutated")
    ok(isinstance(Y, np.ndarray) and Y.shape == X.shape and Y.dtype == np.float64, "shape and dtype",
       f"got {getattr(Y, 'shape', None)}, {getattr(Y, 'dtype', None)}")
    ok(not np.shares_memory(Y, X), "output does not alias input")
    ok(bool(np.isfinite(Y).all()), "finite output on finite input")
    ok(np.array_equal(Y, call(X)), "same seed, same output")
    ok(np.array_equal(Y, call(np.asfortranarray(X))), "layout independence (Fortran-ordered input)")
    ok(call(X[0]).shape == (d,), "1-D input gives 1-D output")
    ok(np.array_equal(call(np.zeros((m, d))), np.zeros((m, d))), "C(0) = 0")
    if comp.deterministic:
        ok(all(np.array_equal(Y[i], comp(X[i])) for i in range(m)), "rows compressed independently")
    return ContractResult(name, d, tuple(done))
