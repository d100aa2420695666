"""Attack ``bit_flip``: negated honest rows (as used by Liu et al., TNNLS 2026)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.kernels import Kernel


@njit(cache=True)
def bit_flip_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """out ← −own, row by row.

    params = (0,): unused. ``H``, ``t``, ``rng`` and ``pk`` are unused.
    """
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = -own[i, j]


@ATTACKS.register("bit_flip")
class BitFlip(Attack):
    """Bit flip (BF): each Byzantine worker sends the negation of its own honest row.

    Definition: Byzantine row j = −(row worker j would produce following the protocol on its
    own data) = −``ctx.own_rows()[j]``. Rows differ across Byzantine workers.

    Parameters: none. Requires ``AttackContext.own_rows``. Used by Liu et al. (Byz-EF21-SGDM) and the
    Byz-DM21 paper (Li, Liu, Yi 2026) among their attacks.
    """

    requires = frozenset({"own_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.negative(np.asarray(ctx.own_rows(), dtype=np.float64))

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`bit_flip_kernel`: the engine passes ``ctx.own_rows()`` as ``own``."""
        return Kernel(bit_flip_kernel, (0,))
