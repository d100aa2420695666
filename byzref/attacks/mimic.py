"""Attack ``mimic``: copy one good worker's row (Karimireddy, He, Jaggi, ICLR 2022).

See :ref:`attack-mimic`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from numba import njit

from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel

__all__ = ["Mimic", "mimic_kernel"]


@njit(cache=True)
def mimic_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """Every row of out ← H[i].

    ``own``, ``t``, ``rng`` and ``pk`` are unused. Stateless: the index is fixed, as in the Python
    attack.

    Parameters
    ----------
    params : tuple
        (i,), checked against n − f when the kernel is built.
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
    i = params[0]
    for k in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[k, j] = H[i, j]


@ATTACKS.register("mimic")
class Mimic(Attack):
    """Mimic: every Byzantine row is a copy of good row i.

    Definition: b = h_i, i ∈ {0, …, n − f − 1}. Over-weights one good worker's data, which hurts
    under heterogeneity (Karimireddy, He, Jaggi, ICLR 2022). Like byzfl's ``Mimic(epsilon=i)``: a
    fixed index, no warm-up direction search. See :ref:`attack-mimic`.

    Parameters
    ----------
    i : int ≥ 0, default 0
        Index of the good worker to copy; checked against n − f at call time.
    """

    test_config: ClassVar[dict[str, Any]] = {"i": 0}

    def __init__(self, i: int = 0):
        self.i = check_int("i", i, 0)

    def _check(self, n: int, f: int) -> None:
        m = n - f
        if self.i >= m:
            raise ConfigError(
                f"mimic i = {self.i} is outside the good rows [0, {m - 1}] "
                f"(n = {n}, f = {f}); allowed range [0, n − f − 1] = [0, {m - 1}]",
                field="i",
            )

    def _vector(self, H, ctx, rng):
        self._check(H.shape[0] + ctx.f, ctx.f)
        return H[self.i]

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.mimic.mimic_kernel` with the index i.

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
            When f > 0 and i ≥ n − f.
        """
        if f > 0:
            self._check(n, f)
        return Kernel(mimic_kernel, (int(self.i),))
