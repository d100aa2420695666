"""Splitting a dataset across the n workers (Byzantine shards included), with a heterogeneity knob.

Every split returns ``(order, counts)``: worker i owns rows ``order[o_i : o_i + counts[i]]`` with
o_i = counts[:i].sum(). Every worker must own at least one sample (else a ConfigError).
"""

from __future__ import annotations

import numpy as np

from byzref.errors import ConfigError, check_choice, check_real

__all__ = ["SPLITS", "split_workers"]

SPLITS = ("iid", "label_skew", "dirichlet")


def _chunks(idx: np.ndarray, n: int) -> list[np.ndarray]:
    return np.array_split(idx, n)


def split_workers(y: np.ndarray, n: int, rng: np.random.Generator, split: str = "iid",
                  skew: float = 0.0, alpha: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Assign the N samples with labels y to n workers.

    * ``iid``: a random permutation cut into n near-equal parts.
    * ``label_skew``: a random fraction ``skew`` ∈ [0, 1] of the samples is sorted by label and cut
      into n contiguous parts (worker i gets mostly one class); the rest is spread i.i.d.
      skew = 0 is iid, skew = 1 is the fully sorted ("pathological non-iid") split.
    * ``dirichlet``: for each class, worker shares ~ Dirichlet(alpha·1_n) (Hsu, Qi, Brown,
      arXiv:1909.06335, 2019); small ``alpha`` = strong label skew and unequal sizes.

    Parameters
    ----------
    y : numpy.ndarray, shape (N,)
        Labels, N ≥ n.
    n : int
        Number of workers (Byzantine ones included).
    rng : numpy.random.Generator
        Randomness of the permutation and of the Dirichlet shares.
    split : {"iid", "label_skew", "dirichlet"}, optional
        The rule (default "iid").
    skew : float, optional
        Sorted fraction for "label_skew", in [0, 1] (default 0).
    alpha : float, optional
        Dirichlet concentration for "dirichlet", > 0 (default 1).

    Returns
    -------
    order : numpy.ndarray, shape (N,)
        Row indices, worker by worker.
    counts : numpy.ndarray of int64, shape (n,)
        Rows per worker (each ≥ 1).

    Raises
    ------
    byzref.errors.ConfigError
        For an unknown split, a parameter out of range, or a worker left without samples.
    """
    check_choice("split", split, SPLITS)
    N = y.shape[0]
    if N < n:
        raise ConfigError(f"the data hold {N} samples, fewer than n = {n} workers: a worker would have none")
    perm = rng.permutation(N)
    if split == "iid":
        parts = _chunks(perm, n)
    elif split == "label_skew":
        skew = check_real("skew", skew, 0.0, 1.0)
        k = round(skew * N)
        sorted_part = perm[:k][np.argsort(y[perm[:k]], kind="stable")]
        pairs = zip(_chunks(sorted_part, n), _chunks(perm[k:], n), strict=True)
        parts = [np.concatenate([a, b]) for a, b in pairs]
    else:
        alpha = check_real("alpha", alpha, 0.0, lo_open=True)
        pieces: list[list[np.ndarray]] = [[] for _ in range(n)]
        for c in np.unique(y):
            idx = perm[y[perm] == c]
            cuts = (np.cumsum(rng.dirichlet(np.full(n, alpha)))[:-1] * idx.size).astype(np.int64)
            for i, part in enumerate(np.split(idx, cuts)):
                pieces[i].append(part)
        parts = [np.concatenate(p) for p in pieces]
    counts = np.array([p.size for p in parts], dtype=np.int64)
    if (counts == 0).any():
        i = int(np.argmax(counts == 0))
        raise ConfigError(f"split = {split!r} left worker {i} with no samples "
                          f"(raise alpha / lower skew, or use fewer workers)")
    return np.concatenate(parts), counts
