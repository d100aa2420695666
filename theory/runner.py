"""Run the experiments of many claims at once, deduplicated by run id, on a process pool.

Each run is a pure function of its config (SPEC §1, DESIGN "Randomness"), so serial and parallel
execution give bit-identical records. Workers are spawned (no fork of a threaded parent) with
``NUMBA_NUM_THREADS=1``; the engine is imported inside the worker after that variable is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

__all__ = ["key", "run_all", "run_one"]

_CURVES = ("iteration", "grad_sq", "grad_sq_avg", "f_gap")


def key(cfg: dict) -> str:
    """The engine's run id of a config (hash of its normalized form)."""
    from byzref.config import normalize, run_id

    return run_id(normalize(cfg))


def run_one(cfg: dict) -> dict:
    """Run one config; return a small picklable record: status, summary and a few curves as lists."""
    from byzref.engine import run

    res = run(cfg)
    return {"status": res.status, "diverged_at": res.diverged_at, "summary": dict(res.summary),
            "curves": {k: res.curves[k].tolist() for k in _CURVES}, "wall_time": res.wall_time}


def _init_worker() -> None:
    os.environ["NUMBA_NUM_THREADS"] = "1"


def _cost(cfg: dict) -> float:
    return float(cfg["T"]) * (2.0 if cfg["algorithm"]["name"] == "byz_vr_dm21" else 1.0)


def run_all(configs: Iterable[dict], workers: int = 2,
            progress: Callable[[int, int], None] | None = None) -> dict[str, dict]:
    """Run every distinct config once; returns {run id: record}. workers ≤ 1 runs serially."""
    todo: dict[str, dict] = {}
    for cfg in configs:
        todo.setdefault(key(cfg), cfg)
    order = sorted(todo, key=lambda k: -_cost(todo[k]))  # longest first: better load balance
    out: dict[str, dict] = {}
    total = len(order)
    if workers <= 1 or total <= 1:
        for i, k in enumerate(order):
            out[k] = run_one(todo[k])
            if progress:
                progress(i + 1, total)
        return out
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    old = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"  # inherited by spawned workers before they import numba
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker) as ex:
            futs = {ex.submit(run_one, todo[k]): k for k in order}
            for i, fut in enumerate(as_completed(futs)):
                out[futs[fut]] = fut.result()
                if progress:
                    progress(i + 1, total)
    finally:
        if old is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = old
    return {k: out[k] for k in order}
