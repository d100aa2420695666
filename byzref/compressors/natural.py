"""Natural compression: unbiased random rounding to powers of two (Horváth et al., arXiv:1905.10988)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, UNBIASED, Compressor, as_rows
from byzref.kernels import Kernel

__all__ = ["Natural"]


@njit(cache=True)
def _natural_rows(X, U, out):
    """out[r, j] = natural rounding of X[r, j], rounded up iff U[r, j] < p (one fused pass).

    X, U: (m, d) float64, read only (U uniform in [0, 1)). out: (m, d) float64, fully written
    (the kernel mutates ``out`` only). Zeros, non-finite entries and |x| > 2^1023 are copied.
    """
    m, d = X.shape
    for r in range(m):
        for j in range(d):
            v = X[r, j]
            a = abs(v)
            if not (0.0 < a < np.inf):
                out[r, j] = v
                continue
            mant, ex = math.frexp(a)  # a = mant · 2^ex, mant ∈ [0.5, 1)
            if ex > 1023:
                out[r, j] = v
                continue
            low = math.ldexp(0.5, ex)
            out[r, j] = math.copysign(2.0 * low if U[r, j] < 2.0 * mant - 1.0 else low, v)
    return out


@njit(cache=True)
def _natural_kernel(params, X, rng, out):
    r"""out[r] = natural rounding of X[r] for every row r, with d uniforms per row drawn from rng.

    .. math:: C(x)_j = \operatorname{sign}(x_j)\,(2^{e} \text{ or } 2^{e+1}), \quad
              2^{e} \le |x_j| < 2^{e+1}, \quad \Pr[2^{e+1}] = |x_j|/2^{e} - 1

    params = (U,) with U a (1, d) float64 buffer: row r's uniforms U[0, j] = rng.random(), drawn in
    row-major order (the values of ``rng.random((m, d))``), then :func:`_natural_rows` on that row.
    X: (m, d) float64, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written.
    """
    U = params[0]
    m, d = X.shape
    for r in range(m):
        for j in range(d):
            U[0, j] = rng.random()
        _natural_rows(X[r:r + 1], U, out[r:r + 1])


@COMPRESSORS.register("natural")
class Natural(Compressor):
    r"""Natural compression: each entry is rounded at random to one of the two nearest powers of two.

    For :math:`x_j \ne 0` with :math:`2^{e} \le |x_j| < 2^{e+1}`:

    .. math:: C(x)_j = \operatorname{sign}(x_j)
              \begin{cases} 2^{e+1} & \text{w.p. } p_j = |x_j|/2^{e} - 1, \\
                            2^{e}   & \text{w.p. } 1 - p_j, \end{cases}

    so :math:`\mathbb{E}\, C(x)_j = x_j`; zeros (and exact powers of two) stay as they are.
    See :ref:`compressor-natural`.

    Parameters
    ----------
    float_bits : int, default 32
        Accepted for a uniform interface; the message cost does not depend on it.

    Notes
    -----
    Unbiased, :math:`C \in \mathbb{U}(1/8)`: per entry the variance is
    :math:`(2^{e+1} - |x_j|)(|x_j| - 2^{e}) \le x_j^2/8` (equality at :math:`|x_j| = \tfrac43 2^{e}`).
    One message costs 9d bits (sign and 8-bit exponent). Randomness: one uniform per entry,
    ``rng.random((m, d))``, entry rounded up iff u < p. Choices byzref makes where the paper is silent: the
    exponent is not clipped to the 8-bit range (entries are rounded in float64); entries with
    :math:`|x_j| > 2^{1023}`, whose upper power would overflow, and non-finite entries are returned
    unchanged.

    References
    ----------
    Horváth, Ho, Horváth, Sahu, Canini, Richtárik, "Natural compression for distributed deep
    learning", 2019, arXiv:1905.10988.

    Examples
    --------
    >>> import numpy as np
    >>> y = Natural()(np.array([0.0, -1.0, 3.0]), np.random.default_rng(0))
    >>> y[0] == 0.0 and y[1] == -1.0 and y[2] in (2.0, 4.0)
    True
    """

    classes = (UNBIASED,)
    deterministic = False
    test_config = {}

    def omega(self, d: int) -> float:
        """ω = 1/8, for every d.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            0.125
        """
        return 1.0 / 8.0

    def bits(self, d: int) -> float:
        """9d bits: a sign bit and an 8-bit exponent per entry.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            Bits per message.
        """
        return float(9 * d)

    def outcomes(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The two possible values of each entry and the probability of the second one.

        Exposed for exact-expectation tests: E C(x) = low + p_high·(high − low) entrywise.

        Parameters
        ----------
        X : array_like
            A d-vector or an (m, d) array.

        Returns
        -------
        low, high, p_high : numpy.ndarray
            Arrays shaped like X: C(x)_j = high_j with probability p_high_j, else low_j.
        """
        if np.ndim(X) == 1:
            return tuple(a[0] for a in self.outcomes(as_rows(X)))
        X = as_rows(X)
        a = np.abs(X)
        mant, ex = np.frexp(a)  # a = mant · 2^ex, mant ∈ [0.5, 1) (0 for a = 0)
        same = ~np.isfinite(X) | (ex > 1023) | (a == 0.0)  # entries returned unchanged
        p = np.where(same, 0.0, 2.0 * mant - 1.0)  # exact: p = a/2^(ex−1) − 1
        e = np.where(same, 0, ex)  # keeps ldexp below from overflowing on masked entries
        low = np.where(same, X, np.copysign(np.ldexp(0.5, e), X))
        high = np.where(same, X, np.copysign(np.ldexp(1.0, e), X))
        return low, high, p

    def _compress(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        U = rng.random(X.shape)
        return _natural_rows(X, U, np.empty_like(X))

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d; params ``(U,)``.

        U is a (1, d) buffer for one row's uniforms, so a call allocates nothing.

        Parameters
        ----------
        n : int
            Largest number of rows per call.
        d : int
            Row length (the dimension).

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.compressors.base.Compressor.kernel`.
        """
        self.check(d)
        return Kernel(_natural_kernel, (np.empty((1, d)),))
