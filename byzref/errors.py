"""Error types and parameter validators shared by every component family.

Every validator raises :class:`ConfigError` with a message that names the field, the offending
value and the allowed range, so a bad config fails before any work starts.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "ConfigError",
    "check_choice",
    "check_int",
    "check_real",
]


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and the allowed range."""


def _fmt_interval(lo, hi, lo_open, hi_open) -> str:
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    return f"{left}{lo_s}, {hi_s}{right}"


def check_real(
    field: str,
    value,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as a float after checking it is a finite real number in the interval.

    ``lo``/``hi`` of ``None`` mean unbounded; ``lo_open``/``hi_open`` make the ends open.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{field} must be a real number, got {value!r}")
    v = float(value)
    interval = _fmt_interval(lo, hi, lo_open, hi_open)
    if not math.isfinite(v):
        raise ConfigError(f"{field} = {value!r} is not finite; allowed range {interval}")
    bad = (
        (lo is not None and (v < lo or (lo_open and v == lo)))
        or (hi is not None and (v > hi or (hi_open and v == hi)))
    )
    if bad:
        raise ConfigError(f"{field} = {value!r} is outside the allowed range {interval}")
    return v


def check_int(field: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{field} must be an integer, got {value!r}")
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        lo_s = "-inf" if lo is None else str(lo)
        hi_s = "inf" if hi is None else str(hi)
        raise ConfigError(f"{field} = {v} is outside the allowed range [{lo_s}, {hi_s}]")
    return v


def check_choice(field: str, value, choices) -> object:
    """Return ``value`` after checking it is one of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"{field} = {value!r} is not allowed; valid values: {', '.join(map(repr, choices))}"
        )
    return value
