"""Run records: config, seeds, versions, status and summary as JSON; curves as .npz (no pickle).

Files of a run with id ``RID`` in directory ``DIR``: ``DIR/RID.json`` and ``DIR/RID.npz``.
Writing never overwrites an existing record (a finished result is never lost); the .npz is
written first and the .json last, each through a temporary file and an atomic rename, so a
record exists only when its curves do.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Result", "load_result", "versions"]


def versions() -> dict[str, str]:
    """Versions of the software a result was produced with."""
    import numba

    import byzref
    from byzref.config import NUMERICS

    return {"byzref": byzref.__version__, "numerics": str(NUMERICS), "python": sys.version.split()[0],
            "numpy": np.__version__, "numba": numba.__version__, "platform": platform.platform()}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else str(v)  # JSON has no inf/nan
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class Result:
    """The outcome of one run.

    Attributes
    ----------
    config : dict
        The normalized config (defaults filled in).
    run_id : str
        Hash of the canonical config (byzref.config.run_id).
    status : "ok" or "diverged"
    diverged_at : int or None
        Iteration at which the run diverged.
    curves : dict of ndarray
        Per checkpoint: iteration, bits_up / bits_down (cumulative per worker), grad_sq = ‖∇f(x^t)‖²,
        grad_sq_avg (running average over x⁰..x^t, the ε-stationarity metric of SPEC §1),
        f_gap = f(x^t) − f*, dist = ‖x^t − x*‖ (NaN when x* is unknown), agg_err = ‖ĝ^t − mean_G‖².
    summary : dict
        avg_grad_sq = (1/T) Σ_{t<T} ‖∇f(x^t)‖², final values, total bits.
    """

    config: dict
    run_id: str
    status: str
    diverged_at: int | None
    curves: dict[str, np.ndarray]
    summary: dict[str, Any]
    constants: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    wall_time: float = 0.0

    def record(self) -> dict[str, Any]:
        """The JSON record (everything but the curves)."""
        return _jsonable({"run_id": self.run_id, "status": self.status, "diverged_at": self.diverged_at,
                          "config": self.config, "seed": self.config.get("seed"),
                          "summary": self.summary, "constants": self.constants,
                          "versions": self.versions, "wall_time": self.wall_time})

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write ``RID.npz`` then ``RID.json`` into ``out_dir`` (never overwriting); return the JSON path."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        js, npz = out / f"{self.run_id}.json", out / f"{self.run_id}.npz"
        if js.exists():
            raise FileExistsError(f"{js} exists; finished results are never overwritten")

        def write_npz(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, **self.curves)

        def write_json(tmp):
            with open(tmp, "w") as fh:
                json.dump(self.record(), fh, indent=1, sort_keys=True)

        _atomic_write(npz, write_npz)
        _atomic_write(js, write_json)
        return js


def _from_record(rec: dict, curves: dict[str, np.ndarray]) -> Result:
    """A :class:`Result` from its JSON record and its curves."""
    summary = {k: (float(v) if v in ("inf", "-inf", "nan") else v) for k, v in rec["summary"].items()}
    return Result(config=rec["config"], run_id=rec["run_id"], status=rec["status"],
                  diverged_at=rec["diverged_at"], curves=curves, summary=summary,
                  constants=rec.get("constants", {}), versions=rec.get("versions", {}),
                  wall_time=rec.get("wall_time", 0.0))


def load_result(path: str | os.PathLike) -> Result:
    """Load a result from its ``.json`` path (curves from the sibling ``.npz``, without pickle)."""
    js = Path(path)
    rec = json.loads(js.read_text())
    with np.load(js.with_suffix(".npz"), allow_pickle=False) as z:
        curves = {k: z[k] for k in z.files}
    return _from_record(rec, curves)
