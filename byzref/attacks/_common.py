"""Shared NumPy helpers of the attack family.

Private module: coordinate-wise statistics of the good rows H with clear errors when H has too few
rows for the statistic to be defined (instead of NumPy's RuntimeWarning and NaN). The same checks
run when a kernel is built (:func:`check_good_rows`), since n and f are known then.
"""

from __future__ import annotations

import numpy as np

from byzref.errors import ConfigError

__all__ = ["check_good_rows", "good_mean", "good_std"]


def check_good_rows(m: int, attack: str, std: bool = False) -> None:
    """Raise a ConfigError unless m = n − f good rows suffice: m ≥ 1 for the mean, m ≥ 2 with ``std``."""
    if std and m < 2:
        raise ConfigError(
            f"attack {attack!r} needs the sample std (ddof=1) of the good rows, which requires "
            f"n - f >= 2, got n - f = {m}"
        )
    if m < 1:
        raise ConfigError(f"attack {attack!r} needs at least one good row (n - f >= 1), got n - f = {m}")


def good_mean(H: np.ndarray, attack: str) -> np.ndarray:
    """Coordinate-wise mean of the good rows, shape (d,). Needs n − f ≥ 1 rows."""
    check_good_rows(H.shape[0], attack)
    return H.mean(axis=0)


def good_std(H: np.ndarray, attack: str, mean: np.ndarray | None = None) -> np.ndarray:
    """Coordinate-wise sample standard deviation (ddof = 1) of the good rows. Needs n − f ≥ 2 rows."""
    m = H.shape[0]
    check_good_rows(m, attack, std=True)
    if mean is None:
        mean = H.mean(axis=0)
    dev = H - mean
    np.square(dev, out=dev)
    var = dev.sum(axis=0)
    var /= m - 1
    return np.sqrt(var, out=var)
