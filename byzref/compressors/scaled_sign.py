"""Scaled sign compression (Karimireddy et al., ICML 2019, EF-SGD)."""

from __future__ import annotations

import numpy as np
from numba import njit

from byzref._pairwise_sum import pairwise_stack, pairwise_sum_ws
from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, Compressor, as_rows
from byzref.kernels import Kernel

__all__ = ["ScaledSign"]

@njit(cache=True)
def _scaled_sign_kernel(params, X, rng, out):
    r"""out[r] = (‖X[r]‖₁/d) sign(X[r]) for every row r of X (the kernel of :class:`ScaledSign`).

    .. math:: C(x) = \frac{\|x\|_1}{d} \operatorname{sign}(x), \qquad \operatorname{sign}(0) = 0

    ‖x‖₁ is summed as NumPy's ``np.abs(X).sum(axis=1)`` does (its pairwise order,
    :mod:`byzref._pairwise_sum`, plus the reduction's initial 0), then divided by d; sign(±0) = +0
    as ``np.sign``. A row whose scale is not finite (a non-finite entry, or an overflowing sum) is
    copied. params = (a, tasks, vals): a (d,) buffer for |x| and the summation's stack
    (:meth:`ScaledSign.kernel`); rng is not used.
    X: (m, d) float64, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written.
    """
    a, tasks, vals = params
    m, d = X.shape
    for r in range(m):
        x = X[r]
        for j in range(d):
            a[j] = abs(x[j])
        scale = (0.0 + pairwise_sum_ws(a, tasks, vals)) / d
        if not np.isfinite(scale):
            for j in range(d):
                out[r, j] = x[j]
            continue
        for j in range(d):
            v = x[j]
            sg = 1.0 if v > 0.0 else (-1.0 if v < 0.0 else 0.0)
            out[r, j] = scale * sg


@COMPRESSORS.register("scaled_sign")
class ScaledSign(Compressor):
    r"""Scaled sign: one float (the mean magnitude) and one sign bit per entry.

    .. math:: C(x) = \frac{\|x\|_1}{d} \operatorname{sign}(x), \qquad \operatorname{sign}(0) = 0.

    See :ref:`compressor-scaled_sign`.

    Parameters
    ----------
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Deterministic and contractive with a vector-dependent constant
    :math:`\alpha(x) = \|x\|_1^2 / (d\|x\|^2) \ge 1/d` (``alpha_of``); the declared, worst-case
    constant is ``alpha(d) = 1/d``. With z the number of zero entries,

    .. math:: \|C(x) - x\|^2 = \|x\|^2 - \frac{\|x\|_1^2}{d}\Big(1 + \frac{z}{d}\Big)
              \le (1 - \alpha(x))\|x\|^2,

    with equality when x has no zero entry. Choice byzref makes where the paper is silent:
    sign(0) = 0 (numpy's convention), which only helps. One message costs
    :math:`b_f + d` bits. Rows with a non-finite entry are returned unchanged.

    References
    ----------
    Karimireddy, Rebjock, Stich, Jaggi, "Error feedback fixes SignSGD and other gradient
    compression schemes", ICML 2019, arXiv:1901.09847.

    Examples
    --------
    >>> import numpy as np
    >>> ScaledSign()(np.array([1.0, -3.0, 0.0, 2.0])).tolist()
    [1.5, -1.5, 0.0, 1.5]
    """

    classes = (CONTRACTIVE,)
    deterministic = True
    test_config = {}

    def alpha(self, d: int) -> float:
        """The worst-case α = 1/d, the smallest α(x) over x ≠ 0 (see ``alpha_of``).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            1/d.
        """
        return 1.0 / d

    def alpha_of(self, x) -> float | np.ndarray:
        """α(x) = ‖x‖₁² / (d‖x‖²) for a vector (a float) or for each row of an (m, d) array.

        For x = 0 it returns 1.0 (C(0) = 0, so every α ≤ 1 holds).

        Parameters
        ----------
        x : array_like
            A d-vector or an (m, d) array.

        Returns
        -------
        float or numpy.ndarray
            α(x) for a vector, or the (m,) values for the rows of an array.
        """
        rows = as_rows(x)
        d = rows.shape[1]
        l1 = np.abs(rows).sum(axis=1)
        sq = np.einsum("ij,ij->i", rows, rows)
        out = np.where(sq > 0.0, l1**2 / (d * np.where(sq > 0.0, sq, 1.0)), 1.0)
        return float(out[0]) if np.ndim(x) == 1 else out

    def bits(self, d: int) -> float:
        """b_f + d bits: one float and d sign bits.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            Bits per message.
        """
        return float(self.float_bits + d)

    def _compress(self, X: np.ndarray, rng) -> np.ndarray:
        scale = np.abs(X).sum(axis=1, keepdims=True) / X.shape[1]
        finite = np.isfinite(scale)  # rows with a non-finite entry are returned unchanged
        return np.where(finite, np.where(finite, scale, 0.0) * np.sign(X), X)

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d.

        Kernel parameters: a (d,) buffer for the magnitudes of one row's entries, and the stack of
        the pairwise summation (``byzref._pairwise_sum.pairwise_stack``), which sums ‖x‖₁ in
        NumPy's order.

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
        return Kernel(_scaled_sign_kernel, (np.zeros(d), *pairwise_stack()))
