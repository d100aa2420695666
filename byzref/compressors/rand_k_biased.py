"""Rand-k sparsification without scaling (biased, contractive): (k/d)·rand_k (Stich et al., NeurIPS 2018)."""

from __future__ import annotations

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE
from byzref.compressors.rand_k import RandK

__all__ = ["RandKBiased"]


@COMPRESSORS.register("rand_k_biased")
class RandKBiased(RandK):
    r"""Biased random sparsification: keep k uniformly random coordinates, unscaled.

    .. math:: C(x) = \sum_{j \in S} x_j e_j,
              \quad S \text{ uniform among the k-subsets of } \{0, \dots, d-1\}.

    See :ref:`compressor-rand_k_biased`.

    Parameters
    ----------
    k : int
        Coordinates kept, 1 ≤ k ≤ d (checked against d at call time).
    float_bits : int, default 32
        Bits per float, :math:`b_f`.

    Notes
    -----
    Contractive, :math:`C \in \mathbb{B}(k/d)`: :math:`\mathbb{E}\|C(x) - x\|^2 = (1 - k/d)\|x\|^2`
    exactly (each coordinate is dropped with probability 1 − k/d). Equals (k/d)·rand_k, i.e.
    Q/(ω+1) with Q = rand_k, ω = d/k − 1. Same sampler (shared kernel) and bits as rand_k:
    :math:`k(b_f + \lceil \log_2 d \rceil)`.

    References
    ----------
    The random sparsifier of Stich, Cordonnier, Jaggi, "Sparsified SGD with memory", NeurIPS
    2018, arXiv:1809.07599.

    Examples
    --------
    >>> import numpy as np
    >>> y = RandKBiased(k=1)(np.array([1.0, 2.0]), np.random.default_rng(0))
    >>> sorted(y.tolist()) in ([0.0, 1.0], [0.0, 2.0])
    True
    """

    classes = (CONTRACTIVE,)

    def scale(self, d: int) -> float:
        """Kept coordinates are not rescaled.

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            1.0.
        """
        return 1.0

    def alpha(self, d: int) -> float:
        """α = k/d (exact: E‖C(x) − x‖² = (1 − k/d)‖x‖²).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        float
            The declared contraction constant.
        """
        return self.k / d

    def omega(self, d: int) -> None:
        """None: biased, so not in 𝕌(ω).

        Parameters
        ----------
        d : int
            Dimension.

        Returns
        -------
        None
            Always.
        """
        return None
