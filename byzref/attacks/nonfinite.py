"""Attack ``nonfinite``: rows of +inf, −inf or NaN (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.attacks.base import ATTACKS, Attack
from byzref.errors import check_choice

_VALUES = {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}


@ATTACKS.register("nonfinite")
class NonFinite(Attack):
    """Non-finite: every Byzantine row is the constant vector +∞, −∞ or NaN.

    Definition (SPEC §5): b = c·1_d with c ∈ {+∞, −∞, NaN}. Tests the aggregators' non-finite handling
    (SPEC §3: with at most f such rows every aggregator except mean must return a finite vector).
    byzfl's ``Inf`` is kind = "inf".

    Parameters
    ----------
    kind : "inf" (default), "-inf" or "nan"
    """

    test_config: ClassVar[dict[str, Any]] = {"kind": "inf"}

    def __init__(self, kind: str = "inf"):
        self.kind = check_choice("kind", kind, tuple(_VALUES))

    def _vector(self, H, ctx, rng):
        return np.full(H.shape[1], _VALUES[self.kind])
