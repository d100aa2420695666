"""Attack ``bit_flip``: negated honest rows (as used by Liu et al., TNNLS 2026).

See :ref:`attack-bit_flip`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.kernels import Kernel

__all__ = ["BitFlip", "bit_flip_kernel"]


@njit(cache=True)
def bit_flip_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """out ← −own, row by row.

    ``H``, ``t``, ``rng`` and ``pk`` are unused.

    Parameters
    ----------
    params : tuple
        (0,): unused.
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
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = -own[i, j]


@ATTACKS.register("bit_flip")
class BitFlip(Attack):
    """Bit flip (BF): each Byzantine worker sends the negation of its own honest row.

    Definition: Byzantine row j = −(row worker j would produce following the protocol on its
    own data) = −``ctx.own_rows()[j]``. Rows differ across Byzantine workers.

    No parameters. Requires ``AttackContext.own_rows``. Used by Liu et al. (Byz-EF21-SGDM, IEEE TNNLS
    2026) and the Byz-DM21 paper (Li, Liu, Yi, arXiv:2603.15144, 2026) among their attacks.
    See :ref:`attack-bit_flip`.
    """

    requires = frozenset({"own_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.negative(np.asarray(ctx.own_rows(), dtype=np.float64))

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.bit_flip.bit_flip_kernel`; the engine passes ``ctx.own_rows()`` as ``own``.

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
        """
        return Kernel(bit_flip_kernel, (0,))
