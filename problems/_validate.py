"""Validators shared by the problems (every error names the field, value and allowed range)."""

from __future__ import annotations

import numbers

import numpy as np

from byzref.errors import ConfigError, check_int

__all__ = ["as_generator", "check_workers", "finite_array", "plain"]


def plain(v):
    """Recursively turn numpy scalars/arrays into Python floats/lists (JSON-able)."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    return v


def check_workers(n, f) -> tuple[int, int]:
    """Validate n ≥ 1 workers and 0 ≤ f ≤ n − 1 Byzantine workers (SPEC §1)."""
    if n is None:
        raise ConfigError("n (number of workers) is required")
    n = check_int("n", n, 1)
    return n, check_int("f", f, 0, n - 1)


def as_generator(rng) -> np.random.Generator:
    """Accept a numpy Generator (or an int seed); anything else is a ConfigError."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ConfigError(f"rng must be a numpy Generator (or an int seed), got {rng!r}")


def finite_array(field: str, value, ndim: int) -> np.ndarray:
    """``value`` as a C-contiguous float64 array with ``ndim`` dimensions and finite entries."""
    a = np.ascontiguousarray(value, dtype=np.float64)
    if a.ndim != ndim:
        raise ConfigError(f"{field} must be {ndim}-dimensional, got shape {a.shape}")
    if a.size == 0:
        raise ConfigError(f"{field} is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ConfigError(f"{field} contains a non-finite value (NaN or inf) at index {tuple(bad.tolist())}")
    return a
