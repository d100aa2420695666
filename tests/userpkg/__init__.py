"""A user's own components, written as a user would: subclasses of byzref's base classes that are
not registered anywhere. The tests name them in run configs by import path (``"userpkg:TopFraction"``,
with ``tests/`` on ``sys.path``) or through a ``byzref.components`` entry point.

* :class:`TopFraction` (compressor): keeps the ⌈q·d⌉ coordinates of largest magnitude; contractive
  with α = ⌈q·d⌉/d.
* :class:`NormTrim` (aggregator): drops the f + extra rows of largest norm and averages the rest.
* :class:`MeanShift` (attack): every Byzantine row is mean(H) − z·std(H), coordinate-wise.
* :class:`NotAComponent`, :data:`NOT_A_CLASS`: wrong-family targets for the error tests.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from byzref.aggregators.base import Aggregator
from byzref.attacks.base import Attack
from byzref.compressors.base import CONTRACTIVE, Compressor, index_bits
from byzref.errors import ConfigError, check_int, check_real

__all__ = ["MeanShift", "NormTrim", "TopFraction"]


class TopFraction(Compressor):
    """Top-(q·d): keep the k = ⌈q·d⌉ largest-magnitude coordinates of each row (ties: lowest index).

    Parameters
    ----------
    q : float in (0, 1], default 0.25
        Fraction of the coordinates kept.
    float_bits : int, default 32
        Bits per transmitted float.
    """

    param_ranges: ClassVar[dict[str, str]] = {"q": "a real in (0, 1]"}
    classes = (CONTRACTIVE,)
    deterministic = True
    test_config: ClassVar[dict[str, Any]] = {"q": 0.5}

    def __init__(self, q: float = 0.25, float_bits: int = 32):
        super().__init__(float_bits)
        self.q = check_real("q", q, 0.0, 1.0, lo_open=True)

    def k(self, d: int) -> int:
        """Number of coordinates kept in dimension d."""
        return max(1, min(d, math.ceil(self.q * d)))

    def alpha(self, d: int) -> float:
        """α = k/d: ‖C(x) − x‖² ≤ (1 − k/d)‖x‖² for the k largest coordinates."""
        return self.k(d) / d

    def bits(self, d: int) -> float:
        return float(self.k(d) * (self.float_bits + index_bits(d)))

    def _compress(self, X, rng):
        k = self.k(X.shape[1])
        keep = np.argsort(-np.abs(X), axis=1, kind="stable")[:, :k]
        out = np.zeros_like(X)
        np.put_along_axis(out, keep, np.take_along_axis(X, keep, axis=1), axis=1)
        return out


class NormTrim(Aggregator):
    """Drop the f + extra rows of largest Euclidean norm (ties: the later row) and average the rest.

    Parameters
    ----------
    f : int ≥ 0
        Declared number of Byzantine rows (set by the run).
    extra : int ≥ 0, default 0
        Rows dropped beyond f; the rule needs n > f + extra.
    """

    param_ranges: ClassVar[dict[str, str]] = {"extra": "an integer ≥ 0 with f + extra < n"}
    test_config: ClassVar[dict[str, Any]] = {"extra": 1}

    def __init__(self, f: int = 0, extra: int = 0):
        super().__init__(f)
        self.extra = check_int("extra", extra, 0)

    def check(self, n: int) -> None:
        super().check(n)
        if self.f + self.extra >= n:
            raise ConfigError(f"extra = {self.extra} with f = {self.f} and n = {n} rows drops every row; "
                              f"allowed extra range [0, {n - 1 - self.f}]", field="extra")

    def _aggregate(self, X, rng):
        keep = np.argsort(np.linalg.norm(X, axis=1), kind="stable")[: X.shape[0] - self.f - self.extra]
        return X[np.sort(keep)].mean(axis=0)


class MeanShift(Attack):
    """Every Byzantine row is mean(H) − z·std(H) (coordinate-wise, population std of the good rows).

    Parameters
    ----------
    z : float ≥ 0, default 1.0
        Number of standard deviations of the shift.
    """

    param_ranges: ClassVar[dict[str, str]] = {"z": "a real ≥ 0"}
    test_config: ClassVar[dict[str, Any]] = {"z": 1.0}

    def __init__(self, z: float = 1.0):
        self.z = check_real("z", z, 0.0)

    def _vector(self, H, ctx, rng):
        return H.mean(axis=0) - self.z * H.std(axis=0)


class NotAComponent:
    """A class that subclasses none of byzref's base classes."""


NOT_A_CLASS = 42
