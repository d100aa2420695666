"""Identity compressor: no compression (SPEC §2)."""

from __future__ import annotations

import numpy as np

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, UNBIASED, Compressor

__all__ = ["Identity"]


@COMPRESSORS.register("identity")
class Identity(Compressor):
    r"""The identity map: every coordinate is sent as a float.

    .. math:: C(x) = x

    Parameters
    ----------
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Both contractive and unbiased: :math:`C \in \mathbb{B}(1)` and :math:`C \in \mathbb{U}(0)`.
    Deterministic. One message costs :math:`d\, b_f` bits. SPEC §2.

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
        return 1.0

    def omega(self, d: int) -> float:
        return 0.0

    def bits(self, d: int) -> float:
        return float(d * self.float_bits)

    def _compress(self, X: np.ndarray, rng) -> np.ndarray:
        return X.copy()
