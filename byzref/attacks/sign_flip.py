"""Attack ``sign_flip``: the negated mean of the good rows, or one negated random good row (released form).

See :ref:`attack-sign_flip`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks._common import check_good_rows, good_mean
from byzref.attacks._kernels import col_mean, fill_rows
from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_choice
from byzref.kernels import Kernel

__all__ = ["FORMS", "SignFlip", "sign_flip_kernel"]

FORMS = ("mean", "released")


@njit(cache=True)
def sign_flip_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """Every row of out ← −mean(H), μ as NumPy's ``H.mean(axis=0)``.

    ``own``, ``t``, ``rng`` and ``pk`` are unused.

    Parameters
    ----------
    params : tuple
        (mu,): a (d,) scratch vector.
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
    mu = params[0]
    col_mean(H, mu)
    for j in range(mu.shape[0]):
        mu[j] = -mu[j]
    fill_rows(out, mu)


@ATTACKS.register("sign_flip")
class SignFlip(Attack):
    """Sign flip (SF): every Byzantine row is −mean(H), or −h_j for a random good j (released form).

    Definition: b = −(1/(n − f)) Σ_{i∈G} h_i, the same vector for every Byzantine row
    (form "mean", the default; byzfl's ``SignFlipping``). Form "released": Byzantine row r is
    −h_{j_r} with j_r drawn uniformly from the n − f good rows, independently per row
    (``rng.integers(0, n − f, f)`` from the "attack" stream): the ``SignFlippingWorker`` of the
    Byz-DM21 authors' code (arXiv:2603.15144; ``-random.choice(good messages)``, each Byzantine worker
    on its own). Under protocol "released" the negated message is sent as is (not compressed again).
    See :ref:`attack-sign_flip`.

    Parameters
    ----------
    form : {"mean", "released"}, default "mean"
        The default is left out of the canonical config (run ids of the mean form are unchanged).
        Only the mean form has a compiled kernel.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, form: str = "mean"):
        self.form = check_choice("form", form, FORMS)
        self.random = self.form == "released"  # the released form draws its rows' indices

    def params(self) -> dict[str, Any]:
        """Hyper-parameters as a plain dict; the default form is left out.

        Returns
        -------
        dict
            ``{}`` for the mean form, ``{"form": "released"}`` otherwise.
        """
        return {} if self.form == "mean" else {"form": self.form}

    def describe(self) -> dict[str, Any]:
        """As :meth:`byzref.attacks.base.Attack.describe`, with the form always listed (``byzref info``).

        Returns
        -------
        dict
            ``{"name": ..., "params": {"form": ...}, "requires": [...]}``.
        """
        return {**super().describe(), "params": {"form": self.form}}

    def _rows(self, H, ctx, rng):
        if self.form == "mean":
            return super()._rows(H, ctx, rng)
        check_good_rows(H.shape[0], self.name)
        return np.negative(H[rng.integers(0, H.shape[0], size=ctx.f)])

    def _vector(self, H, ctx, rng):
        return np.negative(good_mean(H, self.name))

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.sign_flip.sign_flip_kernel` with a (d,) scratch vector (mean form only).

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
        NotImplementedError
            For the released form (the Python loop runs it).
        """
        if self.form != "mean":
            raise NotImplementedError("attack sign_flip with form = 'released' has no kernel (the "
                                      "Python loop runs it)")
        if f > 0:
            check_good_rows(n - f, self.name)
        return Kernel(sign_flip_kernel, (np.empty(d),))
