"""Identity compressor: no compression."""

from __future__ import annotations

import numpy as np
from numba import njit

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, UNBIASED, Compressor
from byzref.kernels import Kernel

__all__ = ["Identity"]


@njit(cache=True)
def _identity_kernel(params, X, rng, out):
    """out[r] = X[r] for every row r of X (the kernel of :class:`Identity`; params and rng unused).

    .. math:: C(x) = x

    X: (m, d) float64, read only. out: (≥ m, d) float64; rows 0..m−1 are fully written (a copy,
    bit for bit: signed zeros and NaN payloads included).
    """
    m, d = X.shape
    for r in range(m):
        for j in range(d):
            out[r, j] = X[r, j]


@COMPRESSORS.register("identity")
class Identity(Compressor):
    r"""The identity map: every coordinate is sent as a float.

    .. math:: C(x) = x

    See :ref:`compressor-identity`.

    Parameters
    ----------
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Both contractive and unbiased: :math:`C \in \mathbb{B}(1)` and :math:`C \in \mathbb{U}(0)`.
    Deterministic. One message costs :math:`d\, b_f` bits.

    Examples
    --------
    >>> import numpy as np
    >>> Identity()(np.array([1.0, -2.0])).tolist()
    [1.0, -2.0]
    """

    classes = (CONTRACTIVE, UNBIASED)
    deterministic = True
    test_config = {}

    def alpha(self, d: int) -> float:
        """α = 1: C(x) − x = 0.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            1.0
        """
        return 1.0

    def omega(self, d: int) -> float:
        """ω = 0: C(x) = x exactly.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            0.0
        """
        return 0.0

    def bits(self, d: int) -> float:
        """d·b_f bits: every entry as a float.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            Bits per message.
        """
        return float(d * self.float_bits)

    def _compress(self, X: np.ndarray, rng) -> np.ndarray:
        return X.copy()

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled map for up to n rows of length d: a row-by-row copy, params ``(d,)``.

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
        return Kernel(_identity_kernel, (d,))
