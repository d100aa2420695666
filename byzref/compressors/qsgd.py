"""QSGD / random dithering with s levels and the ℓ₂ norm (Alistarh et al., NeurIPS 2017)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, UNBIASED, Compressor, as_rows
from byzref.errors import check_int
from byzref.kernels import Kernel

__all__ = ["QSGD", "S_MAX"]

#: largest level count: the levels ℓ_j ≤ s must be exact integers in float64
S_MAX = 2**53


@njit(cache=True)
def _qsgd_rows(X, U, s, out):
    """out[r] = QSGD(X[r]) with s levels, level of entry j raised iff U[r, j] < p_j.

    X, U: (m, d) float64, read only (U uniform in [0, 1)); s: float ≥ 1. out: (m, d) float64,
    fully written (the kernel mutates ``out`` only). Rows with norm 0, a non-finite entry or an
    overflowing norm are copied.
    """
    m, d = X.shape
    for r in range(m):
        sq = 0.0
        for j in range(d):
            sq += X[r, j] * X[r, j]
        norm = math.sqrt(sq)
        if not (0.0 < norm < np.inf):
            out[r] = X[r]
            continue
        step = norm / s
        for j in range(d):
            v = X[r, j]
            rj = s * (abs(v) / norm)
            lev = min(math.floor(rj), s)
            if U[r, j] < rj - lev:
                lev += 1.0
            out[r, j] = math.copysign(step * lev, v)
    return out


@njit(cache=True)
def _qsgd_kernel(params, X, rng, out):
    r"""out[r] = QSGD(X[r]) with s levels for every row r, with d uniforms per row drawn from rng.

    .. math:: C(x)_j = \|x\|_2 \operatorname{sign}(x_j)\, \xi_j / s, \quad
              \xi_j \in \{\ell_j, \ell_j + 1\}, \quad \mathbb{E}\,\xi_j = s|x_j|/\|x\|_2

    params = (s, U): s the level count as a float, U a (1, d) float64 buffer: row r's uniforms
    U[0, j] = rng.random(), drawn in row-major order (the values of ``rng.random((m, d))``; rows
    that are copied still consume theirs), then :func:`_qsgd_rows` on that row.
    X: (m, d) float64, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written.
    """
    s, U = params
    m, d = X.shape
    for r in range(m):
        for j in range(d):
            U[0, j] = rng.random()
        _qsgd_rows(X[r:r + 1], U, s, out[r:r + 1])


@COMPRESSORS.register("qsgd")
class QSGD(Compressor):
    r"""Random dithering (QSGD): each entry is rounded at random to one of s levels of ‖x‖.

    .. math:: C(x)_j = \|x\|_2 \operatorname{sign}(x_j)\, \xi_j / s, \qquad
              \xi_j = \begin{cases} \ell_j + 1 & \text{w.p. } r_j - \ell_j, \\
                                    \ell_j & \text{otherwise,} \end{cases}

    with :math:`r_j = s|x_j|/\|x\|_2` and :math:`\ell_j = \lfloor r_j \rfloor`, so
    :math:`\mathbb{E}\,\xi_j = r_j` and :math:`\mathbb{E}\, C(x) = x`. C(0) = 0.
    See :ref:`compressor-qsgd`.

    Parameters
    ----------
    s : int
        Number of quantization levels, 1 ≤ s ≤ 2⁵³ (the levels must be exact integers in float64).
    float_bits : int, default 32
        Bits per float, :math:`b_f` (the norm is sent as one float).

    Notes
    -----
    Unbiased, :math:`C \in \mathbb{U}(\min(d/s^2, \sqrt{d}/s))`: the exact variance is
    :math:`(\|x\|/s)^2 \sum_j p_j(1 - p_j)` with :math:`p_j = r_j - \ell_j`, and
    :math:`p(1-p) \le \min(1/4, r_j)` with :math:`\sum_j r_j \le s\sqrt{d}`.
    One message costs :math:`b_f + d(1 + \lceil \log_2(s+1) \rceil)` bits.
    Randomness: one uniform per entry, ``rng.random((m, d))``, level raised iff u < p_j; one
    fused numba kernel (``outcomes`` is the same rule in NumPy, for tests).
    Rows with a non-finite entry or an overflowing norm are returned unchanged (no guarantee
    applies to them).

    References
    ----------
    Alistarh, Grubic, Li, Tomioka, Vojnovic, "QSGD: communication-efficient SGD via gradient
    quantization and encoding", NeurIPS 2017, arXiv:1610.02132.

    Examples
    --------
    >>> import numpy as np
    >>> QSGD(s=1)(np.array([3.0, 0.0, 0.0]), np.random.default_rng(0)).tolist()
    [3.0, 0.0, 0.0]
    """

    classes = (UNBIASED,)
    deterministic = False
    test_config = {"s": 4}

    param_ranges = {"s": "an integer in [1, 2^53]"}

    def __init__(self, s: int, float_bits: int = 32):
        super().__init__(float_bits)
        self.s = check_int("s", s, 1, S_MAX)

    def omega(self, d: int) -> float:
        """ω = min(d/s², √d/s).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            The declared variance constant.
        """
        return min(d / self.s**2, math.sqrt(d) / self.s)

    def bits(self, d: int) -> float:
        """b_f + d(1 + ⌈log₂(s + 1)⌉) bits: the norm, and a sign and a level per entry.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            Bits per message.
        """
        return float(self.float_bits + d * (1 + math.ceil(math.log2(self.s + 1))))

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
        s = float(self.s)
        norm = np.sqrt(np.einsum("ij,ij->i", X, X))[:, None]
        ok = np.isfinite(norm) & (norm > 0.0)  # rows that are quantized
        safe = np.where(ok, norm, 1.0)
        r = np.where(ok, s * (np.abs(X) / safe), 0.0)  # |x_j| ≤ ‖x‖ ⇒ r ≤ s after rounding too
        lev = np.minimum(np.floor(r), s)
        p = r - lev
        step = np.copysign(safe / s, X)
        low = np.where(ok, step * lev, X)
        high = np.where(ok, step * (lev + 1.0), X)
        return low, high, p

    def _compress(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        U = rng.random(X.shape)
        return _qsgd_rows(X, U, float(self.s), np.empty_like(X))

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d; params ``(s, U)``.

        s = float(self.s); U is a (1, d) buffer for one row's uniforms, so a call allocates nothing.

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
        return Kernel(_qsgd_kernel, (float(self.s), np.empty((1, d))))
