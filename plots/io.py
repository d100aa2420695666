"""Saving figures: PDF for papers, PNG for quick looks (chosen by the file suffix).

A figure is drawn into a temporary file next to its target and renamed onto it, so a plot killed
midway never leaves a half-written figure under the target name.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["save"]

FORMATS = {".pdf": "pdf", ".png": "png"}


def save(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` as PDF or PNG by its suffix (parent folders created); return the path.

    Uses ``fig.savefig`` only (no pyplot state); ``bbox_inches="tight"``; ``dpi`` applies to PNG. The
    file is written whole to a temporary file in the same folder and then renamed onto ``path``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path
        Target file, ending in .pdf or .png (any case).
    dpi : int
        Resolution of a PNG.
    """
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save a figure as {p.name!r}: the suffix must be one of "
                         f"{', '.join(FORMATS)}, got {p.suffix or 'none'!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, p)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return p
