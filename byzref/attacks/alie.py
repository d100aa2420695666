"""Attack ``alie``: "a little is enough" (Baruch, Baruch, Goldberg, NeurIPS 2019).

See :ref:`attack-alie`.
"""

from __future__ import annotations

import numbers
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from numba import njit
from scipy.special import ndtri

from byzref.attacks._common import check_good_rows, good_mean, good_std
from byzref.attacks._kernels import col_mean, col_std, fill_rows
from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import ConfigError, check_choice, check_real, show
from byzref.kernels import Kernel

__all__ = ["ALIE", "alie_kernel", "baruch_z"]

_RULES = ("baruch", "baruch_original")


@lru_cache(maxsize=256)
def baruch_z(n: int, f: int, rule: str = "baruch") -> float:
    """The ALIE scale z from (n, f) (Baruch et al. 2019).

    s = ⌊n/2⌋ + 1 − f (the number of good workers the attacker must win over), and

    - ``"baruch"``:          z = Φ⁻¹((n − f − s)/(n − f))  (Karimireddy et al.; the Byz-DM21 authors' code)
    - ``"baruch_original"``: z = Φ⁻¹((n − s)/n)            (as printed by Baruch et al. 2019)

    Examples: (n, f) = (20, 8) → Φ⁻¹(0.75) = 0.6745; (20, 5) → 0.2533; (10, 3) → 0.1800; (11, 1) → 0.
    The probability must lie in (0, 1), otherwise z = ±∞. For "baruch" this holds iff n ≥ 3 and
    f ≤ ⌊n/2⌋ (s ≥ 1 and s < n − f); for "baruch_original" iff 1 ≤ s < n, i.e. f ≤ ⌊n/2⌋ and n ≥ 2.
    Outside that range a :class:`~byzref.errors.ConfigError` names n, f, s and the probability. Small f
    gives a probability below 1/2 and a NEGATIVE z (e.g. (20, 1): z = Φ⁻¹(9/19) < 0); that is the
    formula.

    Parameters
    ----------
    n : int
        Number of workers.
    f : int
        Number of Byzantine workers.
    rule : {"baruch", "baruch_original"}, default "baruch"
        Which probability the normal quantile is taken of (above).

    Returns
    -------
    float
        z = Φ⁻¹(probability), Φ the standard normal CDF.

    Raises
    ------
    byzref.errors.ConfigError
        When the probability is not in (0, 1).
    """
    s = n // 2 + 1 - f
    if rule == "baruch":
        num, den = n - f - s, n - f
    elif rule == "baruch_original":
        num, den = n - s, n
    else:  # pragma: no cover - guarded by the constructor
        raise ConfigError(f"z rule {rule!r} unknown; valid: {', '.join(_RULES)}")
    if den <= 0 or not 0 < num < den:
        raise ConfigError(
            f"alie z = {rule!r} is undefined for n = {n}, f = {f}: s = floor(n/2) + 1 - f = {s} gives "
            f"probability {num}/{den} outside (0, 1); it needs f <= floor(n/2)"
            + (" and n >= 3" if rule == "baruch" else " and n >= 2")
            + "; pass a numeric z instead"
        )
    return float(ndtri(num / den))


@njit(cache=True)
def alie_kernel(params, H, own, t, rng, pk, out):  # pragma: no cover - compiled
    """Every row of out ← σ·c + μ with μ, σ NumPy's column mean and sample std (ddof = 1) of H.

    ``own``, ``t``, ``rng`` and ``pk`` are unused.

    Parameters
    ----------
    params : tuple
        (c, mu, sd): c = sign·z and two (d,) scratch vectors.
    H : numpy.ndarray
        The (n − f, d) good rows, read only.
    own : numpy.ndarray
        The (f, d) Byzantine workers' own protocol rows (``ctx.own_rows()``; the flipped rows under
        ``label_flip``).
    t : int
        Iteration index.
    rng : numpy.random.Generator
        The run's "attack" stream.
    pk : tuple
        Parameters of the aggregator probe (the compiled ``ctx.aggregate``).
    out : numpy.ndarray
        The (f, d) Byzantine rows, written in full.
    """
    if out.shape[0] == 0:
        return
    c, mu, sd = params
    col_mean(H, mu)
    col_std(H, mu, sd)
    for j in range(sd.shape[0]):
        v = sd[j] * c
        sd[j] = v + mu[j]
    fill_rows(out, sd)


@ATTACKS.register("alie")
class ALIE(Attack):
    """A little is enough: every Byzantine row is mean(H) + sign·z·std(H), coordinate-wise.

    Definition: b_k = μ_k + sign · z · σ_k with μ = mean of the good rows and σ their sample
    standard deviation (ddof = 1) per coordinate k. With the default sign = −1 this is the
    "μ − z·σ" form of Baruch, Baruch, Goldberg (NeurIPS 2019) as used by Karimireddy et al. and the
    Byz-DM21 authors' code; sign = +1 with z = 1.5 is byzfl's ``ALittleIsEnough`` (μ + τ·σ).
    See :ref:`attack-alie`.

    Parameters
    ----------
    z : "baruch" (default), "baruch_original" or a finite real
        The scale; the named rules are computed from (n, f) at call time by
        :func:`byzref.attacks.alie.baruch_z` (cached), which documents when they are undefined (a
        ConfigError naming n and f).
    sign : {-1, 1}, default -1
        Direction of the shift relative to the mean.

    Notes
    -----
    Needs n − f ≥ 2 good rows (the sample std).
    """

    test_config: ClassVar[dict[str, Any]] = {"z": "baruch", "sign": -1}

    def __init__(self, z: str | float = "baruch", sign: int = -1):
        if isinstance(z, numbers.Real) and not isinstance(z, bool):
            self.z = check_real("z", z)
        elif isinstance(z, str) and z in _RULES:
            self.z = z
        else:
            raise ConfigError(f"z = {show(z)} is not allowed; valid values: "
                              f"{', '.join(map(repr, _RULES))} or a finite real number", field="z")
        self.sign = int(check_choice("sign", sign, (-1, 1)))

    def scale(self, n: int, f: int) -> float:
        """The z used for (n, f): :func:`byzref.attacks.alie.baruch_z` for a named rule, else the number.

        Parameters
        ----------
        n : int
            Number of workers.
        f : int
            Number of Byzantine workers.

        Returns
        -------
        float
            The scale z (before the sign).
        """
        return baruch_z(n, f, self.z) if isinstance(self.z, str) else self.z

    def _vector(self, H, ctx, rng):
        z = self.scale(ctx.n, ctx.f)
        mu = good_mean(H, self.name)
        sd = good_std(H, self.name, mu)
        sd *= self.sign * z
        sd += mu
        return sd

    def kernel(self, n: int, f: int, d: int) -> Kernel:
        """:func:`byzref.attacks.alie.alie_kernel` with c = sign·z for (n, f).

        Parameters
        ----------
        n : int
            Number of workers.
        f : int
            Number of Byzantine workers.
        d : int
            Dimension.

        Returns
        -------
        byzref.kernels.Kernel
            The kernel function and its parameters.

        Raises
        ------
        byzref.errors.ConfigError
            When f > 0 and z is undefined for (n, f) or n − f < 2.
        """
        if f == 0:
            return Kernel(alie_kernel, (0.0, np.empty(d), np.empty(d)))
        c = float(self.sign * self.scale(n, f))  # the checks in the order of _vector
        check_good_rows(n - f, self.name)
        check_good_rows(n - f, self.name, std=True)
        return Kernel(alie_kernel, (c, np.empty(d), np.empty(d)))
