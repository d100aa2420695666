"""Hypothesis strategies for worker matrices: n − f good rows in a cluster, f arbitrary rows.

Values are drawn with NumPy from a hypothesis-drawn seed, so good rows are tie-free with
probability one (what krum/nnm tie rules and permutation tests need) and shrinking acts on the
structure: n, d, f, the kind of every Byzantine row, scales and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

__all__ = ["BYZANTINE_KINDS", "FINITE_KINDS", "Workers", "worker_matrices"]

#: how a Byzantine row can look: far cluster, huge entries (1e6..1e150, so squared distances stay
#: finite and distance ties stay improbable), some ±inf/NaN entries, a near-copy of a good row,
#: the zero vector, a scaled negation of the good mean
BYZANTINE_KINDS = ("far", "huge", "nonfinite", "near", "zero", "flip")
FINITE_KINDS = ("far", "huge", "near", "zero", "flip")


@dataclass(frozen=True)
class Workers:
    """An (n, d) worker matrix with its declared f and the (hidden from aggregators) good-row mask.

    Parameters
    ----------
    X : numpy.ndarray
        The (n, d) rows, one per worker.
    f : int
        The number of Byzantine rows an aggregator is told to tolerate.
    good : numpy.ndarray
        Boolean (n,) mask of the good rows; aggregators never see it, property checks do.
    """

    X: np.ndarray
    f: int
    good: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]


def _byzantine_row(kind: str, G: np.ndarray, spread: float, rng: np.random.Generator) -> np.ndarray:
    d = G.shape[1]
    if kind == "far":
        return G.mean(axis=0) + spread * 10.0 ** rng.uniform(1, 6) * rng.standard_normal(d)
    if kind == "huge":
        return rng.choice([-1.0, 1.0], d) * 10.0 ** rng.uniform(6, 150, d)
    if kind == "nonfinite":
        row = G[rng.integers(len(G))].copy()
        hit = rng.random(d) < 0.5
        hit[rng.integers(d)] = True
        row[hit] = rng.choice([np.inf, -np.inf, np.nan], int(hit.sum()))
        return row
    if kind == "near":
        return G[rng.integers(len(G))] + 1e-3 * spread * rng.standard_normal(d)
    if kind == "zero":
        return np.zeros(d)
    if kind == "flip":
        return -10.0 * G.mean(axis=0)
    raise ValueError(f"unknown Byzantine kind {kind!r}; valid: {', '.join(BYZANTINE_KINDS)}")


@st.composite
def worker_matrices(draw, *, min_n: int = 1, max_n: int = 10, min_d: int = 1, max_d: int = 5,
                    margin: int = 1, max_f: int | None = None, kinds=BYZANTINE_KINDS,
                    shuffle: bool = True, max_center: float = 1e3) -> Workers:
    """Strategy for :class:`byzref.testing.Workers`: ``n`` in [min_n, max_n], ``f`` with n ≥ 2f + margin.

    ``margin = 1`` gives f < n/2; ``margin = 3`` gives Blanchard et al.'s n ≥ 2f + 3 for Krum.
    Good rows: centre c with ``|c_k| ≤ max_center`` plus spread·N(0, I), spread in [1e-3, 1e3].
    Each of the f Byzantine rows has a kind drawn from ``kinds`` (see ``BYZANTINE_KINDS``). With
    ``shuffle`` the Byzantine rows sit at random positions (the aggregators must not depend on
    byzref's "last f rows are Byzantine" convention); ``good`` marks the good rows.

    Parameters
    ----------
    draw
        Supplied by hypothesis (``worker_matrices`` is a composite strategy; call it without it).
    min_n, max_n : int
        Range of the number of workers n.
    min_d, max_d : int
        Range of the dimension d.
    margin : int
        f is drawn with n ≥ 2f + margin (1: a strict minority; 3: Krum's condition).
    max_f : int, optional
        Upper bound on f.
    kinds : tuple of str
        Byzantine row kinds to draw from, a subset of ``BYZANTINE_KINDS`` ("far", "huge",
        "nonfinite", "near", "zero", "flip"); ``FINITE_KINDS`` leaves out the non-finite rows.
    shuffle : bool
        Put the Byzantine rows at random positions (else last).
    max_center : float
        Bound on the coordinates of the good rows' centre.

    Returns
    -------
    Workers
        The matrix, f and the good-row mask.
    """
    n = draw(st.integers(max(min_n, margin), max_n))
    f_hi = (n - margin) // 2 if max_f is None else min(max_f, (n - margin) // 2)
    f = draw(st.integers(0, max(f_hi, 0)))
    d = draw(st.integers(min_d, max_d))
    spread = 10.0 ** draw(st.floats(-3, 3))
    centre_mag = draw(st.sampled_from([0.0, 1.0, max_center]))
    byz_kinds = draw(st.lists(st.sampled_from(tuple(kinds)), min_size=f, max_size=f)) if kinds else []
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    G = centre_mag * rng.uniform(-1, 1, d) + spread * rng.standard_normal((n - len(byz_kinds), d))
    B = [_byzantine_row(k, G, spread, rng) for k in byz_kinds]
    X = np.vstack([G, *B]) if B else G
    good = np.arange(n) < n - len(B)
    if shuffle:
        perm = rng.permutation(n)
        X, good = X[perm], good[perm]
    return Workers(np.ascontiguousarray(X, dtype=np.float64), f, good)
