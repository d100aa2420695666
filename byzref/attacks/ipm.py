"""Attack ``ipm``: inner product manipulation (Xie, Koyejo, Gupta, UAI 2020)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks._common import check_good_rows, good_mean
from byzref.attacks._kernels import col_mean, fill_rows
from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_real
from byzref.kernels import Kernel


@njit(cache=True)
def ipm_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """Every row of out ← mean(H)·(−ε), μ as NumPy's ``H.mean(axis=0)``.

    params = (−ε, mu): the factor and a (d,) scratch vector. ``own``, ``t``, ``rng``, ``pk`` unused.
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
    flips it (Xie, Koyejo, Gupta, "Fall of empires", UAI 2020).

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
        """:func:`ipm_kernel` with −ε and a (d,) scratch vector; needs n − f ≥ 1 when f > 0."""
        if f > 0:
            check_good_rows(n - f, self.name)
        return Kernel(ipm_kernel, (-float(self.eps), np.empty(d)))
