"""Nearest-neighbour mixing pre-aggregator (SPEC §3; Allouah et al., AISTATS 2023)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.aggregators._pairwise import pairwise_bytes, pairwise_sq_dists
from byzref.aggregators.base import PRE_AGGREGATORS, PreAggregator

__all__ = ["NNM"]


@PRE_AGGREGATORS.register("nnm")
class NNM(PreAggregator):
    r"""Nearest-neighbour mixing: row i ← mean of the n − f rows nearest to x_i, x_i included.

    Definition (SPEC §3): y_i = (1/(n − f)) Σ_{j ∈ N_i} x_j, N_i = the n − f indices j with the
    smallest ‖x_i − x_j‖² (i itself is at distance 0); ties → lowest index. Output (n, d).
    Parameters: ``f`` (0 ≤ f < n; the aggregator that follows checks its own range).
    Non-finite input (at most f rows with ±inf/NaN): a non-finite row is infinitely far from every
    row, so no finite row picks it while n − f finite rows exist. A non-finite row i is replaced by
    the output row of the finite row j* whose n − f nearest rows are most concentrated (smallest
    Σ_{j ∈ N_{j*}} ‖x_{j*} − x_j‖², ties → lowest index), i.e. by the mean of n − f finite rows
    around the most central finite row. All output rows are then finite.
    Theory: Allouah et al. (2023) show NNM∘F is (f, O(κ f/n))-robust for an (f, κ)-robust F;
    no constant is declared here.
    """

    test_config: ClassVar[dict[str, Any]] = {}

    def memory(self, n: int, d: int) -> float:
        return pairwise_bytes(n, d)

    def _apply(self, X, rng):
        n = X.shape[0]
        k = n - self.f
        D, finite = pairwise_sq_dists(X)
        all_finite = bool(finite.all())
        if not all_finite:
            D[:, ~finite] = np.nan  # sorts after every finite row, even one at overflowed distance
        near = np.argsort(D, axis=1, kind="stable")[:, :k]
        if not all_finite:
            radius = np.take_along_axis(D, near, axis=1).sum(axis=1)
            centre = int(np.argmin(np.where(finite, radius, np.inf)))
            near[~finite] = near[centre]
        W = np.zeros((n, n))
        W[np.arange(n)[:, None], near] = 1.0 / k
        if all_finite:
            return W @ X
        return np.ascontiguousarray(W[:, finite] @ X[finite])
