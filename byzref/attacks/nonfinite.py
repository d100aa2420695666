"""Attack ``nonfinite``: rows of +inf, −inf or NaN (byzref's own stress test; byzfl's ``Inf``).

See :ref:`attack-nonfinite`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_choice
from byzref.kernels import Kernel

__all__ = ["NonFinite", "nonfinite_kernel"]

_VALUES = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}


@njit(cache=True)
def nonfinite_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """out ← the constant c everywhere.

    ``H``, ``own``, ``t``, ``rng`` and ``pk`` are unused.

    Parameters
    ----------
    params : tuple
        (c,) with c ∈ {+∞, −∞, NaN}.
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
    c = params[0]
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = c


@ATTACKS.register("nonfinite")
class NonFinite(Attack):
    """Non-finite: every Byzantine row is the constant vector +∞, −∞ or NaN.

    Definition (byzref's own; kind "inf" is byzfl's ``Inf``): b = c·1_d with c ∈ {+∞, −∞, NaN}.
    Tests the aggregators' non-finite handling
    (byzref requires every aggregator except mean to return a finite vector when at most f rows are
    non-finite). See :ref:`attack-nonfinite`.

    Parameters
    ----------
    kind : {"inf", "-inf", "nan"}, default "inf"
        The constant c: +∞, −∞ or NaN.
    """

    test_config: ClassVar[dict[str, Any]] = {"kind": "inf"}

    def __init__(self, kind: str = "inf"):
        self.kind = check_choice("kind", kind, tuple(_VALUES))

    def _vector(self, H, ctx, rng):
        return np.full(H.shape[1], _VALUES[self.kind])

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.nonfinite.nonfinite_kernel` with the constant of ``kind``.

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
        return Kernel(nonfinite_kernel, (float(_VALUES[self.kind]),))
