"""Attack ``label_flip``: honest rows computed on label-flipped data (as in Karimireddy et al. 2022).

See :ref:`attack-label_flip`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.attacks.base import ATTACKS, Attack
from byzref.attacks.none import copy_own_kernel
from byzref.kernels import Kernel

__all__ = ["LabelFlip"]


@ATTACKS.register("label_flip")
class LabelFlip(Attack):
    """Label flip (LF): the honest row each Byzantine worker computes on its data with flipped labels.

    Definition: Byzantine row j = ``ctx.flipped_rows()[j]``, the row worker j would send when
    following the protocol on its own data with flipped labels (the problem must support label
    flipping; the engine provides the callable). The returned array is a copy.

    No parameters. Requires ``AttackContext.flipped_rows``. Used by Karimireddy, He, Jaggi (ICLR 2022)
    and the Byz-DM21 paper (Li, Liu, Yi, arXiv:2603.15144, 2026). See :ref:`attack-label_flip`.
    """

    requires = frozenset({"flipped_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.array(ctx.flipped_rows(), dtype=np.float64, copy=True)

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`~byzref.attacks.none.copy_own_kernel`; the engine passes the flipped rows as ``own``.

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
