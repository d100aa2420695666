"""Running a sweep's configs on a ``concurrent.futures.Executor`` into a resumable results store.

The parent process is the only writer: it appends each finished Result to the store as soon as its
future completes (curves durable before the record line, :mod:`byzref.store`), so a killed sweep loses
at most the runs in flight, and a restart skips every run stored with verified curves — a run whose
curve file was damaged, truncated or deleted is recomputed. A run that raises is logged to
``DIR/failures.jsonl`` (not stored as finished, so a restart retries it; its entry is dropped once it
is stored) and the sweep goes on. Opening the store refuses, before anything runs, a ``--out`` that is
not a writable directory or holds runs of another numerics version. Each run is a pure function of
its config and seed (named random streams, byzref.rng), so the stored results are bit-identical
whichever executor ran them.
"""

from __future__ import annotations

import math
import os
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from typing import Any

from byzref.config import normalize, run_id
from byzref.store import ResultStore

__all__ = ["SerialExecutor", "process_pool", "run_sweep"]

#: set in the parent's environment while an own process pool runs, so spawned workers inherit them
#: before they import numpy (BLAS) or numba
SINGLE_THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                     "MKL_NUM_THREADS": "1"}


def _run_one(cfg: dict, workload: float | None = None):
    """Worker task: one run, a pure function of its config (``workload``: see :func:`byzref.engine.run`)."""
    from byzref.engine import run

    return run(cfg, workload=workload)


def _combination(cfg: dict) -> tuple:
    """What decides a run's compiled loop, read from its normalized config: the components, with
    algorithms that share their kernels (byz_dm21 and byz_vr_dm21, a method and its preset) as one."""
    from byzref.algorithms.base import ALGORITHMS

    agg = cfg["aggregator"]
    spec = str(agg.get("name", "") if isinstance(agg, dict) else agg)
    stages = tuple(s.split("(")[0].strip() for s in spec.split("+"))
    attack = cfg["attack"]["name"] if cfg["f"] > 0 else "none"
    name = cfg["algorithm"]["name"]
    alg = getattr(ALGORITHMS.get(name), "kernel", name) if name in ALGORITHMS else name
    return (cfg["problem"]["name"], alg, cfg["compressor"]["name"], stages, attack)


def workloads(configs: dict[str, dict]) -> dict[str, float]:
    """Per run id, the estimated Python-loop seconds of all the runs that share its combination.

    Under the "auto" engine policy a combination is compiled when this total repays compiling it, so
    a sweep of many short runs of one combination compiles it once instead of looping in Python.
    """
    from byzref.attacks.base import ATTACKS
    from byzref.compiled import attack_probes, python_seconds

    total: dict[tuple, float] = {}
    keys = {}
    for rid, cfg in configs.items():
        keys[rid] = key = _combination(cfg)
        d = cfg["problem"].get("d", 100)
        d = d if isinstance(d, int) else 100
        att = cfg["attack"]
        probing = cfg["f"] > 0 and att["name"] in ATTACKS
        probes = attack_probes(ATTACKS.get(att["name"]), att) if probing else 0
        total[key] = total.get(key, 0.0) + python_seconds(cfg["T"], cfg["n"], d, len(key[3]), probes)
    return {rid: total[key] for rid, key in keys.items()}


def _init_worker() -> None:
    os.environ.update(SINGLE_THREAD_ENV)


class SerialExecutor(Executor):
    """Runs each task in this process when it is submitted (``--workers 1``, tests).

    A ``concurrent.futures.Executor`` whose futures are already done when :meth:`submit` returns.
    It takes no parameters.
    """

    _max_workers = 1

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Call ``fn(*args, **kwargs)`` now and return a finished future of its outcome.

        Parameters
        ----------
        fn : callable
            The task.
        *args
            Its positional arguments.
        **kwargs
            Its keyword arguments.

        Returns
        -------
        concurrent.futures.Future
            Holding the return value, or the exception ``fn`` raised (an ``Exception``; anything
            else, such as KeyboardInterrupt, propagates).
        """
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


def process_pool(workers: int) -> Executor:
    """A spawn-context process pool (no fork of a threaded parent) with single-threaded workers.

    Parameters
    ----------
    workers : int
        Number of worker processes, ≥ 1.

    Returns
    -------
    concurrent.futures.ProcessPoolExecutor
        Its workers set the thread counts of Numba and the BLAS libraries to 1.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker)


def _log_failure(store: ResultStore, rid: str, cfg: dict, exc: BaseException) -> None:
    store.log_failure(rid, {"config": cfg, "error": f"{type(exc).__name__}: {exc}",
                            "traceback": "".join(traceback.format_exception(exc)), "time": time.time()})


def _cost(cfg: dict) -> float:
    return float(cfg["T"]) * float(cfg["n"])


def run_sweep(configs: Iterable[dict], store_dir: str | os.PathLike, executor: Executor | None = None,
              workers: int | None = None,
              progress: Callable[[int, int, int], None] | None = None,
              compile_all: bool = False, on_result: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Run every config whose id is not yet in the store at ``store_dir``; return a summary.

    Parameters
    ----------
    configs : iterable of dict
        Run configs (normalized here; equal run ids run once).
    store_dir : path
        Results store (created if missing); finished ids are skipped (resume).
    executor : concurrent.futures.Executor, optional
        Where the runs execute (e.g. ``distributed.Client(addr).get_executor()``); it is not shut
        down here. Default: :func:`process_pool` of ``workers`` processes, or :class:`SerialExecutor`
        when ``workers`` ≤ 1.
    workers : int, optional
        Processes of the default pool (default ``os.cpu_count()``).
    progress : callable(done, total, failed), optional
        Called once at the start and after every finished run (of this call's runs).
    compile_all : bool, optional
        Compile every combination that has kernels, however short its runs (default False: under the
        "auto" engine policy a combination never compiled on this machine is compiled only when the
        sweep's runs of it would take longer in the Python loop than compiling it). For sweeps that are
        run again and again, such as ``byzref verify``: compiling once per machine repays itself on
        the second run.
    on_result : callable(Result), optional
        Called in this process with each finished run's :class:`~byzref.results.Result` once it is
        stored (a caller that needs the results need not read them back from the store).

    Returns
    -------
    dict
        ``total`` (distinct runs), ``skipped`` (already stored), ``ran``, one count per run status
        (``ok``, ``stalled``, ``diverged``; another status a run reports gets its own key),
        ``failed`` (raised), ``wall_time`` (s) and ``store`` (the store's path).

    Raises
    ------
    ConfigError
        Before any run, when ``store_dir`` cannot be a store or holds runs of another numerics
        version.
    """
    store = ResultStore(store_dir)
    todo: dict[str, dict] = {}
    for cfg in configs:
        ncfg = normalize(cfg)
        todo.setdefault(run_id(ncfg), ncfg)
    finished = store.finished_ids()
    pending = sorted(((r, c) for r, c in todo.items() if r not in finished), key=lambda p: -_cost(p[1]))
    work = {rid: math.inf for rid, _ in pending} if compile_all else workloads(dict(pending))
    summary = {"total": len(todo), "skipped": len(todo) - len(pending), "ran": 0, "ok": 0, "stalled": 0,
               "diverged": 0, "failed": 0, "wall_time": 0.0, "store": str(store.dir)}
    t0 = time.perf_counter()
    own = executor is None and pending
    saved_env = {k: os.environ.get(k) for k in SINGLE_THREAD_ENV}
    if own:
        workers = (os.cpu_count() or 1) if workers is None else workers
        if workers <= 1:
            executor = SerialExecutor()
        else:
            os.environ.update(SINGLE_THREAD_ENV)
            executor = process_pool(min(workers, len(pending)))
    serial = isinstance(executor, SerialExecutor)
    # a bounded number in flight: a serial executor computes at submit, so it gets one at a time
    window = 1 if serial else 2 * int(getattr(executor, "_max_workers", 0) or 512)
    if progress:
        progress(0, len(pending), 0)
    it, running = iter(pending), {}
    interrupted = True
    try:
        while True:
            while len(running) < window and (nxt := next(it, None)) is not None:
                running[executor.submit(_run_one, nxt[1], work[nxt[0]])] = nxt
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                rid, cfg = running.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:
                    _log_failure(store, rid, cfg, exc)
                    summary["failed"] += 1
                else:
                    store.append(res)
                    summary[res.status] = summary.get(res.status, 0) + 1
                    if on_result is not None:
                        on_result(res)
                summary["ran"] += 1
                if progress:
                    progress(summary["ran"], len(pending), summary["failed"])
        interrupted = False
    finally:
        for fut in running:
            fut.cancel()
        if own:
            executor.shutdown(wait=not interrupted, cancel_futures=True)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    summary["wall_time"] = time.perf_counter() - t0
    return summary
