"""The EF21 compression step shared by the EF21 family (SPEC §4.1, §4.3).

    c_i = C(target_i − g_i),   g_i ← g_i + c_i   (only c_i is sent)

``blk.rows`` holds g; the message c is kept in ``blk.msg`` for the "message" attack target.
"""

from __future__ import annotations

import numpy as np

from byzref.compressors.base import Compressor


def ef21_step(blk, target: np.ndarray, comp: Compressor) -> float:
    """Apply c = C(target − g), g += c on the block; return the bits of one message."""
    diff = blk.state.get("_diff")
    if diff is None or diff.shape != target.shape:
        diff = blk.state["_diff"] = np.empty_like(target)
    np.subtract(target, blk.rows, out=diff)
    c = comp._compress(diff, blk.rng)
    blk.rows += c
    blk.msg = c
    return comp.bits(target.shape[1])
