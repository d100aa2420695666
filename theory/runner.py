"""Run the experiments of many claims at once, deduplicated by run id, through the sweep machinery.

Each run is a pure function of its config (named random streams of its seed, :mod:`byzref.rng`), so
serial and parallel execution give bit-identical records; :func:`byzref.sweep.run_sweep` spawns
single-threaded workers and stores every finished run, so a verification given a store directory resumes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable

__all__ = ["key", "run_all"]

_CURVES = ("iteration", "grad_sq", "grad_sq_avg", "f_gap")


def key(cfg: dict) -> str:
    """The engine's run id of a config (hash of its normalized form).

    Parameters
    ----------
    cfg : dict
        A run config.

    Returns
    -------
    str
    """
    from byzref.config import normalize, run_id

    return run_id(normalize(cfg))


def _record(res) -> dict:
    """A small record of a Result: status, summary and a few curves as lists."""
    return {"status": res.status, "diverged_at": res.diverged_at, "summary": dict(res.summary),
            "curves": {k: res.curves[k].tolist() for k in _CURVES}, "wall_time": res.wall_time}


def _cost(cfg: dict) -> float:
    return float(cfg["T"]) * (2.0 if cfg["algorithm"]["name"] == "byz_vr_dm21" else 1.0)


def run_all(configs: Iterable[dict], workers: int = 2, progress: Callable[[int, int], None] | None = None,
            store_dir: str | os.PathLike | None = None, compile_all: bool = False) -> dict[str, dict]:
    """Run every distinct config once; returns {run id: record} (longest runs first).

    The runs go through :func:`byzref.sweep.run_sweep` (process pool of ``workers``; ≤ 1: serial) into a
    results store: ``store_dir`` when given — runs already stored there are reused, so an interrupted
    ``byzref verify --full`` resumes — else a temporary one. A run that raises makes this raise.

    Parameters
    ----------
    configs : iterable of dict
        Run configs (duplicates run once).
    workers : int, optional
        Worker processes (default 2; ≤ 1: serial).
    progress : callable or None, optional
        Called as ``progress(done, total)``.
    store_dir : str or os.PathLike or None, optional
        The results store to use and reuse; None: a temporary one.
    compile_all : bool, optional
        Compile every combination, however short its runs (see :func:`byzref.sweep.run_sweep`;
        default False).

    Returns
    -------
    dict
        {run id: record}, a record holding "status", "diverged_at", "summary", "curves"
        (iteration, grad_sq, grad_sq_avg, f_gap as lists) and "wall_time".
    """
    from byzref.store import ResultStore
    from byzref.sweep import run_sweep

    todo: dict[str, dict] = {}
    for cfg in configs:
        todo.setdefault(key(cfg), cfg)
    order = sorted(todo, key=lambda k: -_cost(todo[k]))
    report = (lambda done, total, failed: progress(done, total)) if progress else None
    with contextlib.ExitStack() as stack:
        d = store_dir if store_dir is not None else stack.enter_context(tempfile.TemporaryDirectory())
        fresh: dict[str, dict] = {}  # this call's runs, kept as they finish (not read back from the store)
        summary = run_sweep(todo.values(), d, workers=workers, progress=report, compile_all=compile_all,
                            on_result=lambda res: fresh.__setitem__(res.run_id, _record(res)))
        if summary["failed"]:
            raise RuntimeError(f"{summary['failed']} verification run(s) raised; see {d}/failures.jsonl")
        store = ResultStore(d)
        out = {rec["run_id"]: fresh[rec["run_id"]] if rec["run_id"] in fresh else _record(store.load(rec))
               for rec in store.records() if rec["run_id"] in todo}
    return {k: out[k] for k in order}
