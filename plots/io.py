"""Saving figures: PDF, EPS, SVG and PGF for papers, PNG for quick looks (chosen by the file suffix).

Vector output uses TrueType (Type 42) fonts, never Type 3 ones (which several venues reject):
:func:`save` writes under ``pdf.fonttype = ps.fonttype = 42`` (a ``matplotlib.rc_context``, nothing
set globally). A figure is drawn into a temporary file next to its target and renamed onto it, so a
plot killed midway never leaves a half-written figure under the target name. :func:`write_sidecar`
writes the JSON description of a figure beside it (``FIG.pdf.json`` beside ``FIG.pdf``) the same way.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from byzref.errors import ConfigError
from byzref.results import _jsonable, _tmp_name

__all__ = ["FORMATS", "check_output", "latex_missing", "save", "sidecar_path", "write_sidecar"]

#: figure file suffix → matplotlib format
FORMATS = {".pdf": "pdf", ".png": "png", ".svg": "svg", ".pgf": "pgf", ".eps": "eps"}


def latex_missing(program: str = "latex") -> str | None:
    """None when ``program`` (and dvipng for ``latex``) is on the PATH, else what is missing.

    Parameters
    ----------
    program : str, optional
        The TeX program (default ``"latex"``; ``matplotlib.rcParams["pgf.texsystem"]`` for PGF).

    Returns
    -------
    str or None
        The missing programs, comma-separated.
    """
    need = [program] + (["dvipng"] if program == "latex" else [])
    missing = [p for p in need if shutil.which(p) is None]
    return ", ".join(missing) if missing else None


def check_output(path: str | os.PathLike, usetex: bool = False) -> Path:
    """``path`` as a Path when a figure can be written there, else a one-line ConfigError.

    Parameters
    ----------
    path : path
        Figure file: a known suffix (:data:`FORMATS`), in an existing folder, not a folder itself.
    usetex : bool
        Text is typeset with LaTeX (then ``latex`` and ``dvipng`` must be installed).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        For an unknown suffix, a directory, a missing folder, a folder that is a results store or
        run folder, or missing LaTeX programs.
    """
    out = Path(path)
    allowed = " ".join(FORMATS)
    if out.suffix.lower() not in FORMATS:
        raise ConfigError(f"--out must end in one of {allowed}, got {str(path)!r}")
    if out.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a directory; --out must name a figure file ({allowed})")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {str(path)!r}: the folder {str(out.parent)!r} does not exist; "
                          "--out must be a file in an existing folder")
    here = out.parent
    if (here / "runs.jsonl").exists() or (here.name == "curves" and (here.parent / "runs.jsonl").exists()) \
            or any(len(p.stem) == 16 and p.with_suffix(".json").exists() for p in here.glob("*.npz")):
        raise ConfigError(f"--out {str(path)!r} is inside a results store or a run folder; figures are "
                          "derived data and are never written there: use another folder")
    if usetex and (missing := latex_missing("latex")):
        raise ConfigError(f"--usetex needs a LaTeX installation, but {missing} is not on the PATH; "
                          "install TeX Live (latex, dvipng) or leave out --usetex")
    if out.suffix.lower() == ".pgf":
        import matplotlib

        tex = matplotlib.rcParams["pgf.texsystem"]
        if missing := latex_missing(tex):
            raise ConfigError(f"--out {out.name!r}: PGF output needs {tex} (a LaTeX installation), "
                              f"but {missing} is not on the PATH; write .pdf or .svg instead")
    return out


def save(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` in the format of its suffix (parent folders created); return the path.

    Uses ``fig.savefig`` only (no pyplot state); ``bbox_inches="tight"``; fonts embedded as TrueType
    (``pdf.fonttype``/``ps.fonttype`` 42) in PDF and EPS, as paths in SVG. The file is written whole
    to a temporary file in the same folder and then renamed onto ``path``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : path
        Target file, ending in .pdf, .png, .svg, .pgf or .eps (any case).
    dpi : int
        Resolution of a PNG (default 150).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib

    from plots.style import paper_rc

    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save a figure as {p.name!r}: the suffix must be one of "
                         f"{', '.join(FORMATS)}, got {p.suffix or 'none'!r}")
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(_tmp_name(p.name))
    rc = {k: v for k, v in paper_rc().items() if k != "pgf.rcfonts"}
    try:
        with matplotlib.rc_context(rc):
            fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
        os.replace(tmp, p)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return p


def sidecar_path(path: str | os.PathLike) -> Path:
    """``FIG.pdf.json`` for the figure ``FIG.pdf``.

    Same folder; one sidecar per figure file, so ``FIG.png`` and ``FIG.pdf`` drawn with different
    options keep their own descriptions.

    Parameters
    ----------
    path : str or os.PathLike
        The figure file.

    Returns
    -------
    pathlib.Path
    """
    p = Path(path)
    return p.with_name(p.name + ".json")


def write_sidecar(path: str | os.PathLike, data: dict) -> Path:
    """Write ``data`` as indented JSON to the sidecar of figure ``path`` (temp file + rename); return it.

    Parameters
    ----------
    path : path
        The figure file (the sidecar is :func:`sidecar_path` of it).
    data : dict
        JSON-serialisable description of the figure (non-finite floats are written as strings).

    Returns
    -------
    pathlib.Path
        The sidecar's path.
    """
    side = sidecar_path(path)
    tmp = side.with_name(_tmp_name(side.name))
    text = json.dumps(_jsonable(data), indent=1, ensure_ascii=False, allow_nan=False)
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, side)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return side
