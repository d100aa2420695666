"""Attack ``bit_flip``: negated honest rows (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.attacks.base import ATTACKS, Attack


@ATTACKS.register("bit_flip")
class BitFlip(Attack):
    """Bit flip (BF): each Byzantine worker sends the negation of its own honest row.

    Definition (SPEC §5): Byzantine row j = −(row worker j would produce following the protocol on its
    own data) = −``ctx.own_rows()[j]``. Rows differ across Byzantine workers.

    Parameters: none. Requires ``AttackContext.own_rows``. Used by Liu et al. (Byz-EF21-SGDM) and the
    Byz-DM21 paper (Li, Liu, Yi 2026) among their attacks.
    """

    requires = frozenset({"own_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.negative(np.asarray(ctx.own_rows(), dtype=np.float64))
