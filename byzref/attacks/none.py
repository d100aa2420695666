"""Attack ``none``: the Byzantine workers follow the protocol (the no-attack baseline).

See :ref:`attack-none`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.kernels import Kernel

__all__ = ["NoAttack", "copy_own_kernel"]


@njit(cache=True)
def copy_own_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """out ← own, row by row (the Byzantine workers' own protocol rows).

    ``H``, ``t``, ``rng`` and ``pk`` are unused (shared with ``label_flip``).

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
            out[i, j] = own[i, j]


@ATTACKS.register("none")
class NoAttack(Attack):
    """No attack: the Byzantine workers follow the protocol on their own data.

    Definition: Byzantine row j = the honest row worker j would produce on its own data,
    read from ``ctx.own_rows()`` (filled in by the engine; shape (f, d)). The returned array is a
    copy, so the engine's state is never aliased.

    No parameters. Requires ``AttackContext.own_rows``. Theory: the "no attack" baseline (NA)
    of Li, Liu, Yi, arXiv:2603.15144 (2026); with heterogeneous data the Byzantine workers' own
    functions are not part of the objective f = (1/(n − f)) Σ_{i∈G} f_i, G the good workers.
    See :ref:`attack-none`.
    """

    requires = frozenset({"own_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.array(ctx.own_rows(), dtype=np.float64, copy=True)

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.none.copy_own_kernel`; the engine passes ``ctx.own_rows()`` as ``own``.

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
        return Kernel(copy_own_kernel, (0,))
