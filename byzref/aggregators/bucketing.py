"""Bucketing pre-aggregator (Karimireddy, He, Jaggi, ICLR 2022)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numba import njit

from byzref.aggregators.base import PRE_AGGREGATORS, PreAggregator
from byzref.errors import ConfigError, check_int
from byzref.kernels import Kernel

__all__ = ["Bucketing"]


@njit(cache=True)
def _bucket_means_kernel(X, perm, s, out):  # pragma: no cover - compiled
    """out[b] ← mean of the rows X[perm[bs]], …, X[perm[min(n, (b+1)s) − 1]]. Mutates ``out`` only.

    Each mean is the sum divided by the bucket size; where that sum overflows although every
    summand in the column is finite, the column is summed again as Σ x/size (partial sums then
    stay below the largest |x|), so finite rows always give a finite mean.
    """
    n, d = X.shape
    for b in range(out.shape[0]):
        lo = b * s
        hi = min(n, lo + s)
        for k in range(d):
            out[b, k] = 0.0
        for r in range(lo, hi):
            row = X[perm[r]]
            for k in range(d):
                out[b, k] += row[k]
        for k in range(d):
            out[b, k] /= hi - lo
        for k in range(d):
            if not np.isfinite(out[b, k]):
                acc = 0.0
                for r in range(lo, hi):
                    v = X[perm[r], k]
                    if not np.isfinite(v):
                        acc = out[b, k]  # a non-finite entry: the mean is non-finite indeed
                        break
                    acc += v / (hi - lo)
                out[b, k] = acc


@njit(cache=True)
def _bucketing_fn(params, X, rng, out):  # pragma: no cover - compiled
    """Kernel of :class:`Bucketing`: ``params = (s, perm)``, s = min(s, n), perm an (n,) int64 buffer.

    π is drawn as ``rng.permutation(n)`` draws it (NumPy shuffles 0, …, n − 1 in place).
    """
    s, perm = params
    for i in range(perm.shape[0]):
        perm[i] = i
    rng.shuffle(perm)
    _bucket_means_kernel(X, perm, s, out)


@PRE_AGGREGATORS.register("bucketing")
class Bucketing(PreAggregator):
    r"""Bucketing: randomly permute the rows, then average consecutive groups of s rows.

    Definition (Karimireddy et al.): draw a uniform permutation π (``rng.permutation(n)``, from the passed
    generator only); bucket b = 0, …, ⌈n/s⌉ − 1 holds rows π[bs], …, π[min(n, (b+1)s) − 1] and is
    replaced by the mean over its ACTUAL size (the last bucket has n − s(⌈n/s⌉ − 1) rows when s ∤ n,
    as in Karimireddy et al.; byzfl does the same):

    .. math:: y_b = \frac{1}{|B_b|} \sum_{i \in B_b} x_{\pi(i)}, \qquad
              B_b = \{bs, \dots, \min(n, (b+1)s) - 1\}, \quad b = 0, \dots, \lceil n/s \rceil - 1.

    Output (⌈n/s⌉, d). See :ref:`pre-aggregator-bucketing`.

    Parameters
    ----------
    s : int, default 2
        Bucket size, s ≥ 1; s ≥ n makes one bucket.
    f : int, default 0
        Declared Byzantine count, 0 ≤ f < n. Not rescaled: the aggregator that follows keeps the
        same f, since at most f buckets contain a Byzantine row, and must satisfy its own condition
        on ⌈n/s⌉ rows.

    Notes
    -----
    Non-finite input: a bucket holding a non-finite row is non-finite, so at most f output rows
    are non-finite and the next rule's handling applies. Huge finite rows: a bucket mean whose
    sum would overflow is computed as Σ x/size instead, so finite rows give finite means (the
    same value in exact arithmetic). ``apply_permutation(X, perm)`` computes the same map for a
    given permutation.

    References
    ----------
    Karimireddy, He, Jaggi, "Byzantine-robust learning on heterogeneous datasets via bucketing",
    ICLR 2022, arXiv:2006.09365.
    """

    random = True
    f_in_numbers = False  # f only validates
    test_config: ClassVar[dict[str, Any]] = {"s": 2}

    def __init__(self, s: int = 2, f: int = 0):
        super().__init__(f)
        self.s = check_int("s", s, 1)

    def out_rows(self, n: int) -> int:
        """Number of buckets ⌈n/s⌉ formed from n input rows.

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        int
            ⌈n/s⌉.
        """
        return -(-n // self.s)  # ⌈n/s⌉ in exact integer arithmetic

    def apply_permutation(self, X, perm) -> np.ndarray:
        """Bucket means of the rows X[perm] (perm a permutation of range(n)).

        The same map as a call with a generator whose ``permutation(n)`` returns ``perm``.

        Parameters
        ----------
        X : array_like
            The (n, d) input rows.
        perm : array_like of int
            A permutation of 0, …, n − 1; bucket b holds the rows ``X[perm[b*s : (b+1)*s]]``.

        Returns
        -------
        numpy.ndarray
            The (⌈n/s⌉, d) bucket means.

        Raises
        ------
        byzref.errors.ConfigError
            When ``perm`` is not a permutation of range(n).
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        n = X.shape[0]
        perm = np.asarray(perm)
        if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise ConfigError(f"bucketing: perm must be a permutation of range({n})")
        return self._buckets(X, perm.astype(np.int64))

    def _buckets(self, X: np.ndarray, perm: np.ndarray) -> np.ndarray:
        out = np.empty((self.out_rows(X.shape[0]), X.shape[1]))
        _bucket_means_kernel(X, perm, min(self.s, X.shape[0]), out)  # s ≥ n: one bucket, any s
        return out

    def _apply(self, X, rng):
        return self._buckets(X, rng.permutation(X.shape[0]).astype(np.int64, copy=False))

    def kernel(self, n: int, d: int) -> Kernel:
        """The compiled bucketing for n rows of length d; params ``(min(s, n), perm buffer)``.

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        byzref.kernels.Kernel
            As :meth:`byzref.aggregators.base.PreAggregator.kernel`; π is drawn as
            ``rng.permutation(n)`` draws it.
        """
        self.check(n)
        return Kernel(_bucketing_fn, (min(self.s, n), np.empty(n, dtype=np.int64)))
