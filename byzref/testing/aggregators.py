"""Property checkers for aggregators: call them on YOUR aggregator and inputs.

Each ``check_*`` evaluates the aggregator with ``agg.evaluate`` (no state change) and raises
AssertionError with a message naming the rule, the property and the largest violation.
Equality checks use the tolerance atol + rtol·scale, by default scale = ``data_scale(X)`` + ‖Agg(X)‖_∞:
the ⌈n/2⌉-th smallest row max-norm (non-finite rows count as +inf) is at most the largest good
row's max-norm when f < n/2, so huge Byzantine rows do not make a check vacuous, and the output
term covers rounding in rules whose iterates are large. ``empirical_kappa`` estimates (f, κ)-robustness.
The properties are stated on the page :ref:`math-aggregators`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = [
    "check_coordinate_range",
    "check_finite_output",
    "check_identical_rows",
    "check_permutation_invariance",
    "check_returns_input_row",
    "check_translation_equivariance",
    "data_scale",
    "empirical_kappa",
]


def data_scale(X) -> float:
    """Robust scale of X: the ⌈n/2⌉-th smallest of the rows' max-norms ‖x_i‖_∞ (non-finite rows: +inf).

    With f < n/2 it is at most the largest max-norm of a good row, whatever the Byzantine rows.

    Parameters
    ----------
    X : array_like
        The (n, d) rows.

    Returns
    -------
    float
        The scale.
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        norms = np.where(np.isfinite(X).all(axis=1), np.abs(X).max(axis=1), np.inf)
    return float(np.sort(norms)[(X.shape[0] + 1) // 2 - 1])


def _eval(agg, X, seed: int = 0, rng=None) -> np.ndarray:
    if rng is None and getattr(agg, "random", False):
        rng = np.random.default_rng(seed)
    return np.asarray(agg.evaluate(X, rng), dtype=np.float64)


def _scale(X, out) -> float:
    return data_scale(X) + (float(np.abs(out).max()) if np.isfinite(out).all() else 0.0)


def _label(agg) -> str:
    return getattr(agg, "name", type(agg).__name__)


class _RelabelledGenerator:
    """A Generator whose ``permutation(n)`` (n = the row count) returns σ⁻¹∘π instead of π.

    Agg(X[σ]) then buckets the rows X[σ][σ⁻¹∘π] = X[π]: the same buckets Agg(X) forms with π.
    Everything else is forwarded unchanged.
    """

    def __init__(self, rng: np.random.Generator, inv_sigma: np.ndarray):
        self._rng, self._inv = rng, inv_sigma

    def permutation(self, x, *args, **kwargs):
        p = self._rng.permutation(x, *args, **kwargs)
        return self._inv[p] if isinstance(x, (int, np.integer)) and x == len(self._inv) else p

    def __getattr__(self, name):
        return getattr(self._rng, name)


def _assert_close(name: str, what: str, got, want, tol) -> None:
    with np.errstate(invalid="ignore"):
        err = np.abs(got - want)
    bad = ~(err <= tol)
    if bad.any():
        k = int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf), -1)))
        t = np.broadcast_to(tol, got.shape)[k]
        raise AssertionError(f"{name}: {what} fails at coordinate {k}: got {float(got[k])!r}, expected "
                             f"{float(want[k])!r} (|diff| = {err[k]:.3g} > tolerance {t:.3g})")


def check_permutation_invariance(agg, X, *, n_perms: int = 3, seed: int = 0, rtol: float = 1e-10,
                                 atol: float = 0.0, scale: float | None = None) -> None:
    """Agg(X[σ]) = Agg(X) for random permutations σ (to rtol·scale + atol).

    Random rules (bucketing) are compared given their permutation: both calls get generators
    with the same seed, and the one for X[σ] answers ``permutation(n)`` with σ⁻¹∘π, so both
    form the same buckets.

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    X : array_like
        The (n, d) rows.
    n_perms : int, default 3
        Number of random permutations tried.
    seed : int, default 0
        Seed of the generator given to random rules. The permutations come from seed + 1.
    rtol : float, default 1e-10
        Relative tolerance, times ``scale``.
    atol : float, default 0.0
        Absolute tolerance.
    scale : float or None, default None
        Scale of the tolerance; None: ``data_scale(X)`` + ‖Agg(X)‖_∞.

    Raises
    ------
    AssertionError
        When the property fails; the message names the rule and the largest violation.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    ref = _eval(agg, X, seed)
    tol = atol + rtol * (_scale(X, ref) if scale is None else scale)
    perm_rng = np.random.default_rng(seed + 1)
    for _ in range(n_perms):
        sigma = perm_rng.permutation(n)
        rng = None
        if getattr(agg, "random", False):
            rng = _RelabelledGenerator(np.random.default_rng(seed), np.argsort(sigma))
        got = _eval(agg, X[sigma], rng=rng)
        _assert_close(_label(agg), f"permutation invariance (σ = {sigma.tolist()})", got, ref, tol)


def check_translation_equivariance(agg, X, v, *, shifted=None, seed: int = 0, rtol: float = 1e-9,
                                   atol: float = 0.0, scale: float | None = None) -> None:
    """Agg(X + v) = Agg(X) + v (to rtol·(scale + ‖v‖_∞) + atol).

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    X : array_like
        The (n, d) rows.
    v : array_like
        The shift, a d-vector.
    shifted : byzref.aggregators.base.Aggregator or None, default None
        The aggregator applied to X + v (None: ``agg``); pass e.g. a cclip whose centre is moved
        by v, since such rules are only equivariant together with their centre.
    seed : int, default 0
        Seed of the generator given to random rules.
    rtol : float, default 1e-9
        Relative tolerance, times scale + ‖v‖_∞.
    atol : float, default 0.0
        Absolute tolerance.
    scale : float or None, default None
        Scale of the tolerance; None: ``data_scale(X)`` + ‖Agg(X)‖_∞.

    Raises
    ------
    AssertionError
        When the property fails; the message names the rule and the largest violation.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    ref = _eval(agg, X, seed)
    got = _eval(agg if shifted is None else shifted, X + v, seed)
    tol = atol + rtol * ((_scale(X, ref) if scale is None else scale) + float(np.abs(v).max()))
    _assert_close(_label(agg), "translation equivariance Agg(X + v) = Agg(X) + v", got, ref + v, tol)


def check_identical_rows(agg, x, n: int, *, seed: int = 0, rtol: float = 1e-12, atol: float = 0.0) -> None:
    """n copies of the row x aggregate to x (to rtol·‖x‖_∞ + atol).

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    x : array_like
        The row, a d-vector.
    n : int
        Number of copies (must fit the rule's condition on n and f).
    seed : int, default 0
        Seed of the generator given to random rules.
    rtol : float, default 1e-12
        Relative tolerance, times ‖x‖_∞.
    atol : float, default 0.0
        Absolute tolerance.

    Raises
    ------
    AssertionError
        When the property fails; the message names the rule and the largest violation.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    got = _eval(agg, np.tile(x, (n, 1)), seed)
    _assert_close(_label(agg), f"identical rows (n = {n}) → that row", got, x,
                  atol + rtol * float(np.abs(x).max()))


def check_coordinate_range(agg, X, good, *, seed: int = 0, rtol: float = 1e-12) -> None:
    """Every output coordinate lies within [min, max] of the good rows' values in that coordinate.

    cwtm with b ≥ f and cwmed have this property. meamed does not: with n = 5, f = 2, good values
    0, 10, 20 and Byzantine values −0.5, −0.4, the n − f values closest to the median 0 average −0.3.

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    X : array_like
        The (n, d) rows.
    good : array_like of bool
        Mask of the good rows, length n.
    seed : int, default 0
        Seed of the generator given to random rules.
    rtol : float, default 1e-12
        Slack relative to the larger magnitude of the range's ends.

    Raises
    ------
    AssertionError
        When the property fails; the message names the rule and the largest violation.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    good = np.asarray(good, dtype=bool)
    out = _eval(agg, X, seed)
    lo, hi = X[good].min(axis=0), X[good].max(axis=0)
    slack = rtol * np.maximum(np.abs(lo), np.abs(hi))
    bad = ~((out >= lo - slack) & (out <= hi + slack))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise AssertionError(f"{_label(agg)}: coordinate {k} = {float(out[k])!r} is outside the good rows' "
                             f"range [{float(lo[k])!r}, {float(hi[k])!r}] ({int(good.sum())} good of "
                             f"{len(good)} rows)")


def check_returns_input_row(agg, X, *, seed: int = 0) -> None:
    """The output equals (bit for bit) one of the rows of X (krum has this property).

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    X : array_like
        The (n, d) rows.
    seed : int, default 0
        Seed of the generator given to random rules.

    Raises
    ------
    AssertionError
        When the property fails; the message names the rule and the largest violation.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    out = _eval(agg, X, seed)
    if not (X == out).all(axis=1).any():
        raise AssertionError(f"{_label(agg)}: output {out.tolist()} is not one of the {X.shape[0]} "
                             "input rows")


def check_finite_output(agg, X, *, seed: int = 0) -> None:
    """The output is finite (byzref requires it of every rule but mean when at most f rows are non-finite).

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    X : array_like
        The (n, d) rows, at most f of them with ±inf/NaN entries.
    seed : int, default 0
        Seed of the generator given to random rules.

    Raises
    ------
    AssertionError
        When the property fails; the message names the rule and the largest violation.
    """
    out = _eval(agg, X, seed)
    if not np.isfinite(out).all():
        nonfinite_rows = int((~np.isfinite(np.asarray(X, dtype=np.float64)).all(axis=1)).sum())
        raise AssertionError(f"{_label(agg)}: non-finite output {out.tolist()} with {nonfinite_rows} "
                             f"non-finite input row(s) of {len(X)}")


def empirical_kappa(agg, X, f: int, *, seed: int = 0, max_subsets: int = 100_000) -> float:
    r"""The (f, κ)-robustness constant that X witnesses: the worst ratio over every set of n − f rows.

    .. math:: \hat\kappa = \max_{S \subseteq [n],\, |S| = n - f}
              \frac{\|\mathrm{Agg}(X) - \bar x_S\|^2}{\frac{1}{|S|} \sum_{i \in S} \|x_i - \bar x_S\|^2}

    (Allouah et al., AISTATS 2023): a lower bound on the true κ of the rule. Subsets containing a
    non-finite row have infinite right-hand side and are skipped; a zero spread with a nonzero
    error (beyond rounding) gives +inf. Enumerates C(n, f) subsets.

    Parameters
    ----------
    agg : byzref.aggregators.base.Aggregator
        The rule under test (built with its f); it is called with ``agg.evaluate``.
    X : array_like
        The (n, d) rows.
    f : int
        Number of rows left out of each S, 0 ≤ f < n.
    seed : int, default 0
        Seed of the generator given to random rules.
    max_subsets : int, default 100000
        Refuse when C(n, f) exceeds this.

    Returns
    -------
    float
        The largest ratio (+inf when the output is non-finite).

    Raises
    ------
    ValueError
        When f is out of range or there are too many subsets.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    if not 0 <= f < n:
        raise ValueError(f"empirical_kappa: f = {f} must satisfy 0 ≤ f < n = {n}")
    if math.comb(n, f) > max_subsets:
        raise ValueError(f"empirical_kappa: C({n}, {f}) = {math.comb(n, f)} subsets exceeds max_subsets = "
                         f"{max_subsets}")
    out = _eval(agg, X, seed)
    if not np.isfinite(out).all():
        return math.inf
    finite = np.isfinite(X).all(axis=1)
    eps = (1e-12 * max(data_scale(X), float(np.abs(out).max()))) ** 2
    worst = 0.0
    for S in itertools.combinations(range(n), n - f):
        if not finite[list(S)].all():
            continue
        Y = X[list(S)]
        mu = Y.mean(axis=0)
        spread = float(((Y - mu) ** 2).sum(axis=1).mean())
        err = float(((out - mu) ** 2).sum())
        if spread > 0:
            worst = max(worst, err / spread)
        elif err > eps:
            return math.inf
    return worst
