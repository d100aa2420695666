"""Small shared helpers of the figure functions (number formatting, masking for log axes)."""

from __future__ import annotations

import numpy as np

MINUS = "\u2212"


def fmt(value: float, spec: str = ".2f") -> str:
    """``format(value, spec)`` with a typographic minus sign (U+2212) instead of ``-``."""
    return format(float(value), spec).replace("-", MINUS)


def as_float(name: str, values) -> np.ndarray:
    """``values`` as a 1-D float64 array, or a ValueError naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def positive(arr: np.ndarray) -> np.ndarray:
    """Copy of ``arr`` with non-positive and non-finite entries replaced by NaN (not drawn on log axes)."""
    out = np.array(arr, dtype=np.float64)
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def need(d: dict, keys: tuple[str, ...], what: str) -> None:
    """Raise a ValueError if the dict ``d`` (one item of ``what``) lacks any of ``keys``."""
    if not isinstance(d, dict):
        raise ValueError(f"each item of {what} must be a dict with keys {', '.join(keys)}, got {d!r}")
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"an item of {what} lacks key(s) {', '.join(missing)}; required: {', '.join(keys)}")


def finite_or_none(value):
    """``float(value)`` when it is a finite number, else None (a failed fit shows no annotation)."""
    if value is None:
        return None
    v = float(value)
    return v if np.isfinite(v) else None
