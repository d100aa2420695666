"""Shared NumPy helpers of the attack family (no numba; SPEC §5).

Private module: coordinate-wise statistics of the good rows H with clear errors when H has too few
rows for the statistic to be defined (instead of NumPy's RuntimeWarning and NaN).
"""

from __future__ import annotations

import numpy as np

from byzref.errors import ConfigError

__all__ = ["good_mean", "good_std"]


def good_mean(H: np.ndarray, attack: str) -> np.ndarray:
    """Coordinate-wise mean of the good rows, shape (d,). Needs n − f ≥ 1 rows."""
    if H.shape[0] < 1:
        raise ConfigError(f"attack {attack!r} needs at least one good row (n - f >= 1), got n - f = 0")
    return H.mean(axis=0)


def good_std(H: np.ndarray, attack: str, mean: np.ndarray | None = None) -> np.ndarray:
    """Coordinate-wise sample standard deviation (ddof = 1) of the good rows. Needs n − f ≥ 2 rows."""
    m = H.shape[0]
    if m < 2:
        raise ConfigError(
            f"attack {attack!r} needs the sample std (ddof=1) of the good rows, which requires "
            f"n - f >= 2, got n - f = {m}"
        )
    if mean is None:
        mean = H.mean(axis=0)
    dev = H - mean
    np.square(dev, out=dev)
    var = dev.sum(axis=0)
    var /= m - 1
    return np.sqrt(var, out=var)
