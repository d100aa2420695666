"""Attack ``ipm``: inner product manipulation (Xie, Koyejo, Gupta, UAI 2019).

See :ref:`attack-ipm`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks._common import check_good_rows, good_mean
from byzref.attacks._kernels import col_mean, fill_rows
from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_real
from byzref.kernels import Kernel

__all__ = ["IPM", "ipm_kernel"]


@njit(cache=True)
def ipm_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """Every row of out ← mean(H)·(−ε), μ as NumPy's ``H.mean(axis=0)``.

    ``own``, ``t``, ``rng`` and ``pk`` are unused.

    Parameters
    ----------
    params : tuple
        (−ε, mu): the factor and a (d,) scratch vector.
    H : numpy.ndarray
        The (n − f, d) good rows, read only.
    own : numpy.ndarray
        The (f, d) Byzantine workers' own protocol rows (``ctx.own_rows()``; the flipped rows under
        ``label_flip``).
    t : int
        Iteration index.
    rng : numpy.random.Generator
        The run's "attack" stream.
    pk : tuple
        Parameters of the aggregator probe (the compiled ``ctx.aggregate``).
    out : numpy.ndarray
        The (f, d) Byzantine rows, written in full.
    """
    if out.shape[0] == 0:
        return
    neg_eps, mu = params
    col_mean(H, mu)
    for j in range(mu.shape[0]):
        mu[j] *= neg_eps
    fill_rows(out, mu)


@ATTACKS.register("ipm")
class IPM(Attack):
    """Inner product manipulation: every Byzantine row is −ε·mean(H).

    Definition: b = −ε (1/(n − f)) Σ_{i∈G} h_i. With a small ε the aggregate keeps a reduced but
    positive inner product with the true mean against averaging; against robust aggregators a large ε
    flips it (Xie, Koyejo, Gupta, "Fall of empires: breaking Byzantine-tolerant SGD by inner product
    manipulation", UAI 2019, PMLR 115, 2020). See :ref:`attack-ipm`.

    Parameters
    ----------
    eps : float ≥ 0, default 0.1
        The scale ε (0.1 as in Karimireddy et al. and the Byz-DM21 authors' code; byzfl's default is
        τ = 2.0). Negative values are refused: they would send a positive multiple of the mean, which is
        not this attack.
    """

    test_config: ClassVar[dict[str, Any]] = {"eps": 0.1}

    def __init__(self, eps: float = 0.1):
        self.eps = check_real("eps", eps, 0.0)

    def _vector(self, H, ctx, rng):
        b = good_mean(H, self.name)
        b *= -self.eps
        return b

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.ipm.ipm_kernel` with −ε and a (d,) scratch vector.

        Parameters
        ----------
        n : int
            Number of workers.
        f : int
            Number of Byzantine workers.
        d : int
            Dimension.

        Returns
        -------
        byzref.kernels.Kernel
            The kernel function and its parameters.

        Raises
        ------
        byzref.errors.ConfigError
            When f > 0 and n − f < 1.
        """
        if f > 0:
            check_good_rows(n - f, self.name)
        return Kernel(ipm_kernel, (-float(self.eps), np.empty(d)))
