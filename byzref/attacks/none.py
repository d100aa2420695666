"""Attack ``none``: the Byzantine workers follow the protocol (the no-attack baseline)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.kernels import Kernel


@njit(cache=True)
def copy_own_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """out ← own, row by row (the Byzantine workers' own protocol rows).

    params = (0,): unused. ``H``, ``t``, ``rng`` and ``pk`` are unused.
    """
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = own[i, j]


@ATTACKS.register("none")
class NoAttack(Attack):
    """No attack: the Byzantine workers follow the protocol on their own data.

    Definition: Byzantine row j = the honest row worker j would produce on its own data,
    read from ``ctx.own_rows()`` (filled in by the engine; shape (f, d)). The returned array is a
    copy, so the engine's state is never aliased.

    Parameters: none. Requires ``AttackContext.own_rows``. Theory: the "no attack" baseline (NA)
    of Li, Liu, Yi, arXiv:2603.15144 (2026); with heterogeneous data the Byzantine workers' own functions
    are not part of the objective f = (1/|G|) Σ_{i∈G} f_i.
    """

    requires = frozenset({"own_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.array(ctx.own_rows(), dtype=np.float64, copy=True)

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`copy_own_kernel`: the engine passes ``ctx.own_rows()`` as ``own``."""
        return Kernel(copy_own_kernel, (0,))
