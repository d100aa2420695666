"""Error types and parameter validators shared by every component family.

Every validator raises :class:`ConfigError` with a ONE-LINE message that names the field, the
offending value and the allowed range (or the valid choices), so a bad config fails before any
work starts. The field is kept on the exception as ``exc.field`` (the registry uses it to qualify
the name, e.g. ``algorithm.gamma``).
"""

from __future__ import annotations

import math
import numbers
import re

__all__ = [
    "ConfigError",
    "check_choice",
    "check_int",
    "check_real",
    "show",
]

_SHOW_MAX = 80


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and the allowed range.

    ``field`` (optional) is the name of the offending parameter as the validator saw it.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def show(value) -> str:
    """``repr(value)`` on one line (whitespace runs collapsed), cut to about 80 characters."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= _SHOW_MAX else text[: _SHOW_MAX - 3] + "..."


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
    Booleans, strings and containers are refused (a bool is not a number here).
    """
    interval = _fmt_interval(lo, hi, lo_open, hi_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{field} must be a real number, got {show(value)}; allowed range {interval}",
                          field=field)
    try:
        v = float(value)
    except (OverflowError, ValueError):  # e.g. an int beyond the float range
        v = math.inf
    if not math.isfinite(v):
        raise ConfigError(f"{field} = {show(value)} is not finite; allowed range {interval}", field=field)
    bad = (
        (lo is not None and (v < lo or (lo_open and v == lo)))
        or (hi is not None and (v > hi or (hi_open and v == hi)))
    )
    if bad:
        raise ConfigError(f"{field} = {show(value)} is outside the allowed range {interval}", field=field)
    return v


def check_int(field: str, value, lo: int | None = None, hi: int | None = None, *,
              hi_name: str | None = None) -> int:
    """Return ``value`` as an int after checking it is an integer in ``[lo, hi]``.

    A float with an integral value (``3.0``) is accepted; booleans are refused. ``hi_name``
    describes an upper bound that is only known later (e.g. ``"d"``): it is shown in the message
    in place of ``inf`` while ``hi`` stays unchecked here.
    """
    lo_s = "-inf" if lo is None else str(lo)
    hi_s = hi_name if hi_name is not None else ("inf" if hi is None else str(hi))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if not (isinstance(value, float) and value.is_integer()):
            raise ConfigError(
                f"{field} must be an integer, got {show(value)}; allowed range [{lo_s}, {hi_s}]", field=field
            )
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise ConfigError(f"{field} = {show(value)} is outside the allowed range [{lo_s}, {hi_s}]",
                          field=field)
    return v


def _same_choice(value, choice) -> bool:
    """``value == choice`` without bool/number or str/number confusion (True is not the choice 1)."""
    if isinstance(value, bool) != isinstance(choice, bool):
        return False
    if isinstance(value, str) != isinstance(choice, str):
        return False
    if not isinstance(value, (str, numbers.Real)):
        return False
    try:
        return bool(value == choice)
    except Exception:
        return False


def check_choice(field: str, value, choices) -> object:
    """Return the matching element of ``choices`` after checking ``value`` is one of them.

    Matching is by equality of the same kind of value: strings match strings, numbers match
    numbers (``1.0`` matches ``1``), and a bool matches only a bool.
    """
    for c in choices:
        if _same_choice(value, c):
            return c
    raise ConfigError(
        f"{field} = {show(value)} is not allowed; valid values: {', '.join(map(repr, choices))}",
        field=field,
    )
