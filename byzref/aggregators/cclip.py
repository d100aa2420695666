"""Centered clipping (Karimireddy, He, Jaggi, ICML 2021)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators._pairwise import finite_rows_into
from byzref.aggregators.base import AGGREGATORS, Aggregator
from byzref.errors import ConfigError, check_int, check_real, show
from byzref.kernels import Kernel

__all__ = ["MAX_STEPS", "CClip"]

#: Largest number of clipping steps L per call (a guard against a typo that would hang every round).
MAX_STEPS = 10**6


def _center_vector(center) -> np.ndarray:
    """``center`` as a float64 (d,) vector of finite reals, d ≥ 1, or a ConfigError naming it."""
    try:
        c = np.asarray(center)
        ok = c.ndim == 1 and c.size >= 1 and c.dtype.kind in "iuf"
    except (TypeError, ValueError):  # e.g. a ragged list
        ok = False
    if ok:
        c = np.array(c, dtype=np.float64)
        ok = bool(np.isfinite(c).all())
    if not ok:
        raise ConfigError(f"center = {show(center)} is not allowed; allowed: a non-empty 1-D vector of "
                          "finite real numbers with d entries (or no center)", field="center")
    return c


@njit(cache=True)
def _cclip_kernel(X, tau, L, v, c, acc, ok):  # pragma: no cover - compiled
    """L steps of v ← v + (1/n) Σ_i c_i (x_i − v), c_i = min(1, τ/‖x_i − v‖); c_i = 0 for non-finite rows.

    Norms of finite rows are computed without overflow. Mutates ``v`` (start in, result out) and
    the scratch arrays ``c`` (n,), ``acc`` (d,) and the boolean ``ok`` (n,) (finite rows).
    """
    n, d = X.shape
    finite_rows_into(X, ok)
    for _ in range(L):
        for i in range(n):
            c[i] = 0.0
            if ok[i]:
                s = 0.0
                for k in range(d):
                    t = X[i, k] - v[k]
                    s += t * t
                if not s < np.inf:  # rescale: ‖·‖ = m·‖·/m‖ with m = max |x_ik − v_k|
                    m = 0.0
                    for k in range(d):
                        m = max(m, abs(X[i, k] - v[k]))
                    s = 0.0
                    for k in range(d):
                        t = (X[i, k] - v[k]) / m
                        s += t * t
                    r = m * math.sqrt(s)
                else:
                    r = math.sqrt(s)
                c[i] = 1.0 if r <= tau else tau / r
        for k in range(d):
            acc[k] = 0.0
        for i in range(n):
            if ok[i]:
                for k in range(d):
                    acc[k] += c[i] * (X[i, k] - v[k])
        for k in range(d):
            v[k] += acc[k] / n


@njit(cache=True)
def _cclip_fn(params, X, rng, commit, out):  # pragma: no cover - compiled
    """Kernel of :class:`CClip`: ``params = (tau, L, v0, keeps_state, c, acc, ok)``.

    ``v0`` (d,) is the start: the fixed ``center``, or the state (the last committed output, zero
    after ``reset()``), overwritten by ``out`` when ``commit`` and ``keeps_state``.
    """
    tau, L, v0, keeps_state, c, acc, ok = params
    for k in range(out.shape[0]):
        out[k] = v0[k]
    _cclip_kernel(X, tau, L, out, c, acc, ok)
    if commit and keeps_state:
        for k in range(out.shape[0]):
            v0[k] = out[k]


@AGGREGATORS.register("cclip")
class CClip(Aggregator):
    r"""Centered clipping: L clipped-mean steps around a centre that starts at the previous output.

    Definition (Karimireddy, He, Jaggi, ICML 2021): from v⁰, repeat L times

    .. math:: v \leftarrow v + \frac{1}{n} \sum_{i=1}^{n} (x_i - v)
              \min\Big(1, \frac{\tau}{\|x_i - v\|}\Big),

    and return v. v⁰ = ``center`` when given (then the rule is stateless), otherwise the output of
    the previous server call (``agg(X, rng)``; ``evaluate`` does not update it), and 0 at the
    first call or after ``reset()``. See :ref:`aggregator-cclip`.

    Parameters
    ----------
    tau : float, default 10.0
        Clipping radius τ > 0.
    L : int, default 3
        Clipping steps per call, 1 ≤ L ≤ 10⁶ (``MAX_STEPS``; the cap guards against a typo that
        would hang every round).
    center : array_like or None, default None
        Fixed start v⁰: a 1-D vector of d finite reals (checked against d by ``check_dim(d)``).
        None starts from the previous output (the rule is then stateful).
    f : int, default 0
        Declared Byzantine count; not used by the rule (any 0 ≤ f < n).

    Notes
    -----
    Translation equivariant only together with its centre, cclip(X + u; v⁰ + u) = cclip(X; v⁰) + u;
    identical rows x are returned exactly when ‖x − v⁰‖ ≤ L·τ (each step moves at most τ towards
    them). Non-finite input: rows with any ±inf/NaN entry get weight 0 (their clipped difference
    would have norm τ in an undefined direction), still counted in the 1/n; norms of finite rows
    are computed without overflow. No κ constant is declared (Karimireddy et al. 2021 give a
    (δ, c)-robustness bound that depends on τ and on the start).

    References
    ----------
    Karimireddy, He, Jaggi, "Learning from history for Byzantine robust optimization", ICML 2021,
    arXiv:2012.10333.
    """

    stateful = True
    f_in_numbers = False  # f only validates
    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, tau: float = 10.0, L: int = 3, center=None, f: int = 0):
        super().__init__(f)
        self.tau = check_real("tau", tau, 0.0, None, lo_open=True)
        self.L = check_int("L", L, 1, MAX_STEPS)
        self.center = None if center is None else _center_vector(center)
        self._v: np.ndarray | None = None

    def check_dim(self, d: int) -> None:
        """Refuse a ``center`` whose length is not the row length d.

        Parameters
        ----------
        d : int
            Row length (the problem dimension), d ≥ 1.

        Raises
        ------
        byzref.errors.ConfigError
            When d < 1 or ``center`` has another length.
        """
        super().check_dim(d)
        if self.center is not None and self.center.shape != (d,):
            raise ConfigError(
                f"aggregator.center = {show(self.center.tolist())} has {self.center.shape[0]} entries but "
                f"the problem has d = {d}; allowed: a vector of length d = {d} (or no center: start "
                "from the previous output)", field="aggregator.center")

    def start(self, d: int) -> np.ndarray:
        """A fresh copy of v⁰ for d coordinates.

        Parameters
        ----------
        d : int
            Row length.

        Returns
        -------
        numpy.ndarray
            ``center``, else the last committed output, else zeros; shape (d,).

        Raises
        ------
        byzref.errors.ConfigError
            When that vector does not have d entries.
        """
        v = self.center if self.center is not None else self._v
        if v is None:
            return np.zeros(d)
        if v.shape != (d,):
            self.check_dim(d)  # the center is wrong: its message
            raise ConfigError(f"cclip: the previous output has {v.shape[0]} coordinates but the rows "
                              f"have d = {d}; call reset() before aggregating rows of another length")
        return v.copy()

    def _aggregate(self, X, rng):
        n, d = X.shape
        v = self.start(d)
        _cclip_kernel(X, self.tau, self.L, v, np.empty(n), np.empty(d), np.empty(n, dtype=np.bool_))
        return v

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled rule; the state (v⁰ for the next server call) starts at 0 as after ``reset()``.

        With a fixed ``center`` the start is that centre and is never updated.

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.Aggregator.kernel`.
        """
        self.check(n)
        self.check_dim(d)
        v0 = np.zeros(d) if self.center is None else self.center.copy()
        return Kernel(_cclip_fn, (float(self.tau), int(self.L), v0, self.center is None,
                                  np.empty(n), np.empty(d), np.empty(n, dtype=np.bool_)))

    def _commit(self, out):
        if self.center is None:
            self._v = out.copy()

    def reset(self) -> None:
        """Forget the previous output: the next call starts from ``center`` or 0."""
        self._v = None
