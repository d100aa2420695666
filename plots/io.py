"""Saving figures: PDF for papers, PNG for quick looks (chosen by the file suffix)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["save"]

FORMATS = {".pdf": "pdf", ".png": "png"}


def save(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` as PDF or PNG by its suffix (parent folders created); return the path.

    Uses ``fig.savefig`` only (no pyplot state); ``bbox_inches="tight"``; ``dpi`` applies to PNG.
    """
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save a figure as {p.name!r}: the suffix must be one of "
                         f"{', '.join(FORMATS)}, got {p.suffix or 'none'!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, format=fmt, dpi=dpi, bbox_inches="tight")
    return p
