"""Attack ``sign_flip``: the negated mean of the good rows, or one negated random good row (released form)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.attacks._common import check_good_rows, good_mean
from byzref.attacks._kernels import col_mean, fill_rows
from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_choice
from byzref.kernels import Kernel

FORMS = ("mean", "released")


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
    """Sign flip (SF): every Byzantine row is −mean(H), or −h_j for a random good j (released form).

    Definition: b = −(1/(n − f)) Σ_{i∈G} h_i, the same vector for every Byzantine row
    (form "mean", the default; byzfl's ``SignFlipping``). Form "released": Byzantine row r is
    −h_{j_r} with j_r drawn uniformly from the n − f good rows, independently per row
    (``rng.integers(0, n − f, f)`` from the "attack" stream): the ``SignFlippingWorker`` of the
    Byz-DM21 authors' code (arXiv:2603.15144; ``-random.choice(good messages)``, each Byzantine worker
    on its own). Under protocol "released" the negated message is sent as is (not compressed again).

    Parameters
    ----------
    form : "mean" (default) or "released"
        The default is left out of the canonical config (run ids of the mean form are unchanged).
        Only the mean form has a compiled kernel.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, form: str = "mean"):
        self.form = check_choice("form", form, FORMS)
        self.random = self.form == "released"  # the released form draws its rows' indices

    def params(self) -> dict[str, Any]:
        return {} if self.form == "mean" else {"form": self.form}

    def describe(self) -> dict[str, Any]:
        """As :meth:`Attack.describe`, with the form always listed (``byzref info``)."""
        return {**super().describe(), "params": {"form": self.form}}

    def _rows(self, H, ctx, rng):
        if self.form == "mean":
            return super()._rows(H, ctx, rng)
        check_good_rows(H.shape[0], self.name)
        return np.negative(H[rng.integers(0, H.shape[0], size=ctx.f)])

    def _vector(self, H, ctx, rng):
        return np.negative(good_mean(H, self.name))

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`sign_flip_kernel` with a (d,) scratch vector; needs n − f ≥ 1 when f > 0."""
        if self.form != "mean":
            raise NotImplementedError("attack sign_flip with form = 'released' has no kernel (the "
                                      "Python loop runs it)")
        if f > 0:
            check_good_rows(n - f, self.name)
        return Kernel(sign_flip_kernel, (np.empty(d),))
