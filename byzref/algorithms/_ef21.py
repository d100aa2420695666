"""The EF21 compression step shared by the EF21 family (Richtárik, Sokolov, Fatkhullin, NeurIPS 2021).

    c_i = C(target_i − g_i),   g_i ← g_i + c_i   (only c_i is sent)

``blk.rows`` holds g; the message c is kept in ``blk.msg`` for the "message" attack target.
:func:`ef21_step_kernel` is the same step for the compiled engine.
"""

from __future__ import annotations

import numpy as np

from byzref.compressors.base import Compressor
from byzref.kernels import template


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


@template
def ef21_step_kernel(ck, target, rows, diff, msg, bits):  # pragma: no cover - compiled
    """diff = target − g, msg = C(diff), g += msg, on every row; returns ``bits``. ``compress`` is bound.

    With a one-row ``msg`` (m > 1; see ``AlgorithmKernel.row_messages``) the rows are compressed one
    call at a time into it: every compressor maps each row on its own and draws its randomness row
    after row, so the messages and the generator's state are those of one call on all rows.
    """
    m, d = rows.shape
    if msg.shape[0] == m:
        for i in range(m):
            for j in range(d):
                diff[i, j] = target[i, j] - rows[i, j]
        compress(ck, diff, msg)  # noqa: F821 - bound per run (byzref.kernels.bind)
        for i in range(m):
            for j in range(d):
                rows[i, j] += msg[i, j]
        return bits
    for i in range(m):
        for j in range(d):
            diff[i, j] = target[i, j] - rows[i, j]
        compress(ck, diff[i:i + 1], msg)  # noqa: F821 - bound per run
        for j in range(d):
            rows[i, j] += msg[0, j]
    return bits


@template
def keep_messages(rows, msg):  # pragma: no cover - compiled
    """msg[...] = rows when the block keeps its messages (msg has the block's m rows), else nothing."""
    if msg.shape[0] == rows.shape[0]:
        copy_rows(rows, msg)


@template
def copy_rows(src, dst):  # pragma: no cover - compiled
    """dst[...] = src for two (m, d) arrays."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]
