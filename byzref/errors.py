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

    Parameters
    ----------
    message : str
        The one-line message: the field, the offending value and the allowed range or choices.
    field : str or None, optional
        The name of the offending parameter as the validator saw it (default None), kept as
        ``exc.field``; the registry uses it to qualify the name (``algorithm.gamma``).
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def show(value) -> str:
    """``repr(value)`` on one line (whitespace runs collapsed), cut to about 80 characters.

    Parameters
    ----------
    value : object
        Anything; an object whose ``repr`` raises is shown as ``<TypeName>``.

    Returns
    -------
    str
        At most 80 characters; a longer text ends in ``...``.
    """
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

    Booleans, strings and containers are refused (a bool is not a number here); so are NaN and
    ±inf.

    Parameters
    ----------
    field : str
        Name of the parameter, used in the message (``"gamma"``).
    value : object
        The value to check.
    lo, hi : float or None, optional
        Lower and upper bound of the allowed interval; None (default) means unbounded.
    lo_open, hi_open : bool, optional
        Make the lower / upper end open (default False: closed).

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    ConfigError
        When ``value`` is not a finite real number in the interval.
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

    A float with an integral value (``3.0``) is accepted; booleans are refused.

    Parameters
    ----------
    field : str
        Name of the parameter, used in the message.
    value : object
        The value to check.
    lo, hi : int or None, optional
        Inclusive bounds; None (default) means unbounded.
    hi_name : str or None, optional
        Describes an upper bound that is only known later (e.g. ``"d"``): it is shown in the
        message in place of ``hi`` (pass ``hi=None`` so that nothing is checked here).

    Returns
    -------
    int
        ``int(value)``.

    Raises
    ------
    ConfigError
        When ``value`` is not an integer in ``[lo, hi]``.
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

    Parameters
    ----------
    field : str
        Name of the parameter, used in the message.
    value : object
        The value to check.
    choices : iterable
        The allowed values (strings, numbers or bools), listed in the message on failure.

    Returns
    -------
    object
        The element of ``choices`` that ``value`` equals.

    Raises
    ------
    ConfigError
        When ``value`` matches none of ``choices``.
    """
    for c in choices:
        if _same_choice(value, c):
            return c
    raise ConfigError(
        f"{field} = {show(value)} is not allowed; valid values: {', '.join(map(repr, choices))}",
        field=field,
    )
