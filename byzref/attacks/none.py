"""Attack ``none``: the Byzantine workers follow the protocol (SPEC §5)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from byzref.attacks.base import ATTACKS, Attack


@ATTACKS.register("none")
class NoAttack(Attack):
    """No attack: the Byzantine workers follow the protocol on their own data.

    Definition (SPEC §5): Byzantine row j = the honest row worker j would produce on its own data,
    read from ``ctx.own_rows()`` (filled in by the engine; shape (f, d)). The returned array is a
    copy, so the engine's state is never aliased.

    Parameters: none. Requires ``AttackContext.own_rows``. Theory: the "no attack" baseline (NA);
    with heterogeneous data the Byzantine workers' own functions are not part of the objective (SPEC §1).
    """

    requires = frozenset({"own_rows"})
    test_config: ClassVar[dict[str, Any]] = {}

    def _rows(self, H, ctx, rng):
        return np.array(ctx.own_rows(), dtype=np.float64, copy=True)
