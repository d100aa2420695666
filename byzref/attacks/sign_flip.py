"""Attack ``sign_flip``: the negated mean of the good rows (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks._common import check_good_rows, good_mean
from byzref.attacks._kernels import col_mean, fill_rows
from byzref.attacks.base import ATTACKS, Attack
from byzref.kernels import Kernel


@njit(cache=True)
def sign_flip_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """Every row of out ← −mean(H), μ as NumPy's ``H.mean(axis=0)``.

    params = (mu,): a (d,) scratch vector. ``own``, ``t``, ``rng`` and ``pk`` are unused.
    """
    if out.shape[0] == 0:
        return
    mu = params[0]
    col_mean(H, mu)
    for j in range(mu.shape[0]):
        mu[j] = -mu[j]
    fill_rows(out, mu)


@ATTACKS.register("sign_flip")
class SignFlip(Attack):
    """Sign flip (SF): every Byzantine row is −mean(H).

    Definition (SPEC §5): b = −(1/(n − f)) Σ_{i∈G} h_i, the same vector for every Byzantine row.

    Parameters: none. Omniscient (sees the good rows). byzfl's ``SignFlipping`` (peers.md §4.3).
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def _vector(self, H, ctx, rng):
        return np.negative(good_mean(H, self.name))

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`sign_flip_kernel` with a (d,) scratch vector; needs n − f ≥ 1 when f > 0."""
        if f > 0:
            check_good_rows(n - f, self.name)
        return Kernel(sign_flip_kernel, (np.empty(d),))
